"""Design tokens: the palette for light and dark, spacing, radii and the type scale.

Every widget takes its colours, gaps, corners and text sizes from here (directly or
through the stylesheet made from these, ``desktop/style/stylesheet.py``), so the
window is consistent and dark mode is designed rather than inverted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scheme = Literal["light", "dark"]


@dataclass(frozen=True)
class Palette:
    """Colours by role (hex strings, as Qt stylesheets and QColor take them)."""

    window: str  # the window behind everything
    sidebar: str  # the conversation list's pane
    surface: str  # the transcript's page
    raised: str  # cards, menus, the composer
    border: str
    text: str
    text_muted: str  # timestamps, status lines, placeholders
    accent: str  # primary buttons, focus rings, links, selection
    accent_text: str  # text on the accent
    accent_soft: str  # selected rows, hovered buttons
    user_bubble: str  # the user's messages
    user_text: str
    assistant_mark: str  # the assistant's role mark
    code_bg: str  # code blocks, table headers
    code_inline: str  # inline code, on the page
    danger: str  # errors, failed replies
    danger_soft: str
    success: str
    warning: str
    focus: str  # the focus ring
    hover: str  # hovered icon buttons and rows
    selection: str  # selected text
    scrollbar: str  # scroll bar handles


LIGHT = Palette(
    window="#f6f7f9",
    sidebar="#eef0f3",
    surface="#ffffff",
    raised="#ffffff",
    border="#dde1e6",
    text="#1c2024",
    text_muted="#667085",
    accent="#4f46e5",
    accent_text="#ffffff",
    accent_soft="#e8e7fd",
    user_bubble="#eef2ff",
    user_text="#1c2024",
    assistant_mark="#4f46e5",
    code_bg="#f6f8fa",
    code_inline="#eceef2",
    danger="#c62828",
    danger_soft="#fdecea",
    success="#2e7d32",
    warning="#b26a00",
    focus="#6366f1",
    hover="#eff1f4",
    selection="#c7d2fe",
    scrollbar="#c4c9d1",
)

DARK = Palette(
    window="#16181c",
    sidebar="#1b1e23",
    surface="#1f2227",
    raised="#262a30",
    border="#33383f",
    text="#e6e8eb",
    text_muted="#9aa1ab",
    accent="#8b87f7",
    accent_text="#0f1014",
    accent_soft="#2d2b52",
    user_bubble="#2a2d45",
    user_text="#e6e8eb",
    assistant_mark="#a5a1ff",
    code_bg="#15171b",
    code_inline="#2e3239",
    danger="#ef6b6b",
    danger_soft="#3a2224",
    success="#6fcf7f",
    warning="#e0a84a",
    focus="#a5a1ff",
    hover="#2c3037",
    selection="#3d3a72",
    scrollbar="#474d57",
)

PALETTES: dict[Scheme, Palette] = {"light": LIGHT, "dark": DARK}


@dataclass(frozen=True)
class Spacing:
    """Gaps in device-independent pixels, on a 4 px grid."""

    xxs: int = 2
    xs: int = 4
    sm: int = 8
    md: int = 12
    lg: int = 16
    xl: int = 24
    xxl: int = 32


@dataclass(frozen=True)
class Radii:
    sm: int = 4  # inline code, small buttons
    md: int = 8  # cards, inputs, code blocks
    lg: int = 14  # message bubbles
    pill: int = 999


@dataclass(frozen=True)
class TypeScale:
    """Text sizes in points at text size 100 %, and weights."""

    caption: float = 8.5  # timestamps, status lines
    small: float = 9.5  # list rows, tool cards
    body: float = 10.5  # messages
    title: float = 12.5  # the conversation's title in the header
    display: float = 18.0  # the welcome view's heading
    weight_regular: int = 400
    weight_medium: int = 500
    weight_bold: int = 600


SPACING = Spacing()
RADII = Radii()
TYPE = TypeScale()
