"""The app's icons: Lucide SVGs (``resources/icons``, ISC licence) tinted to a colour.

Lucide draws with ``stroke="currentColor"``, so a tint is the SVG with that colour put
in. Each tint is written once to a private directory for the life of the process: Qt's
SVG icon engine reads a file and renders it at whatever size and device pixel ratio a
widget asks for, so icons stay crisp on HiDPI screens, and style sheets can name the
same files in ``url(...)``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from resources import HERE as RESOURCES

ICONS_DIR = RESOURCES / "icons"
LICENSE = ICONS_DIR / "LICENSE"

# The icons shipped (Lucide names), so a renamed or missing file fails a test, not a user.
NAMES = frozenset(
    {
        "arrow-down",
        "arrow-up",
        "bell",
        "bot",
        "brain",
        "check",
        "chevron-down",
        "chevron-right",
        "chevron-up",
        "circle-alert",
        "circle-check",
        "circle-stop",
        "circle-x",
        "clock",
        "code",
        "copy",
        "copy-check",
        "download",
        "ellipsis",
        "external-link",
        "info",
        "keyboard",
        "loader-circle",
        "message-square",
        "message-square-plus",
        "monitor",
        "moon",
        "panel-left",
        "panel-right",
        "pencil",
        "plus",
        "refresh-cw",
        "rotate-ccw",
        "search",
        "send",
        "server",
        "settings",
        "shield-alert",
        "shield-check",
        "shield-x",
        "sparkles",
        "square",
        "square-pen",
        "sun",
        "terminal",
        "text-wrap",
        "trash-2",
        "triangle-alert",
        "upload",
        "user",
        "wrench",
        "x",
    }
)


def svg_path(name: str) -> Path:
    """The untinted SVG of a Lucide icon shipped in ``resources/icons``."""
    if name not in NAMES:
        raise KeyError(f"no icon {name!r} in resources/icons (see desktop.style.icons.NAMES)")
    return ICONS_DIR / f"{name}.svg"


@cache
def _tint_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="durachat-icons-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def _tinted(name: str, color: str) -> Path:
    svg = svg_path(name).read_text(encoding="utf-8").replace("currentColor", color)
    path = _tint_dir() / f"{name}-{color.lstrip('#')}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def _hex(color: str | QColor | None) -> str:
    if color is None:
        color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    return QColor(color).name()  # "#rrggbb": one file per distinct colour


def icon_file(name: str, color: str | QColor | None = None) -> Path:
    """The icon tinted to ``color`` (default: the palette's text colour) as an SVG file,
    for ``url(...)`` in a style sheet."""
    return _tinted(name, _hex(color))


def icon_url(name: str, color: str | QColor) -> str:
    """``url(...)`` of the tinted icon, as a style sheet takes it."""
    return f"url({icon_file(name, color).as_posix()})"


@cache
def _icon(name: str, color: str) -> QIcon:
    return QIcon(str(_tinted(name, color)))


def icon(name: str, color: str | QColor | None = None) -> QIcon:
    """A Lucide icon in ``color`` (default: the palette's text colour), scalable."""
    return _icon(name, _hex(color))
