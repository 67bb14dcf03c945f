"""Light, dark, or whatever the system uses: the palette and style sheet from the tokens.

Qt 6.8+ can ask the platform for a color scheme (``QStyleHints.setColorScheme``), so
native dialogs and title bars follow; but a platform may ignore the request (some Linux
desktops, the offscreen platform), and its own palette is not ours anyway. So the
palette and the style sheet are always set here, from ``desktop.style.tokens``: "dark"
is the designed dark everywhere. "system" picks light or dark from the platform's
color scheme, and follows it when it changes while the app runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop.style.fonts import rescale_fonts, set_text_scale
from desktop.style.stylesheet import stylesheet
from desktop.style.tokens import PALETTES, Scheme

Theme = Literal["system", "light", "dark"]

_SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


@dataclass
class _Followed:
    theme: Theme = "system"
    watching: bool = False
    text_scale: int = 100
    # The platform's font size, before any text scale: scales multiply this, never
    # the last scaled size, so Ctrl+plus then Ctrl+minus comes back exactly.
    base_points: float | None = None


_followed = _Followed()


def apply_theme(app: QApplication, theme: Theme, text_scale: int | None = None) -> None:
    """``text_scale``: the text size in percent of the platform's; None keeps the one
    set last (a theme change alone does not reset it)."""
    hints = app.styleHints()
    _followed.theme = theme
    if text_scale is not None:
        _followed.text_scale = text_scale
        set_text_scale(text_scale)
    _scale_font(app, _followed.text_scale)
    requested = _SCHEMES.get(theme)
    if requested is None:
        hints.unsetColorScheme()  # back to following the system
    else:
        hints.setColorScheme(requested)
    if not _followed.watching:
        _followed.watching = True
        hints.colorSchemeChanged.connect(lambda _scheme: _on_system_change(app))
    _install(app, scheme_of(theme, hints.colorScheme()))


def scheme_of(theme: Theme, system: Qt.ColorScheme) -> Scheme:
    """The scheme a theme shows in, given the platform's color scheme."""
    if theme == "system":
        return "dark" if system == Qt.ColorScheme.Dark else "light"
    return theme


def _on_system_change(app: QApplication) -> None:
    if _followed.theme == "system":
        _install(app, scheme_of("system", app.styleHints().colorScheme()))


def _install(app: QApplication, scheme: Scheme) -> None:
    # Under a style sheet Qt stops passing palettes and fonts down to children unless
    # asked to; widgets read light or dark from their palette, so a part given its own
    # palette (and everything inside it) must follow it.
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_UseStyleSheetPropagationInWidgetStyles)
    new_palette = palette(scheme)
    if app.palette() != new_palette:
        app.setPalette(new_palette)
    sheet = stylesheet(scheme, _followed.text_scale)
    if app.styleSheet() != sheet:  # setting it re-polishes every widget
        app.setStyleSheet(sheet)


def _scale_font(app: QApplication, text_scale: int) -> None:
    font = app.font()
    if _followed.base_points is None:
        _followed.base_points = font.pointSizeF()
    points = round(_followed.base_points * text_scale / 100, 2)
    if font.pointSizeF() != points:
        font.setPointSizeF(points)
        app.setFont(font)
        rescale_fonts(app)  # the widgets with a type-scale font of their own


def text_scale() -> int:
    """The text scale in use, in percent."""
    return _followed.text_scale


def palette(theme: Scheme) -> QPalette:
    c = PALETTES[theme]
    # Derives the bevel shades (Light, Mid, Dark...) from the button and window colours.
    result = QPalette(QColor(c.raised), QColor(c.window))
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.surface,
        QPalette.ColorRole.AlternateBase: c.sidebar,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.raised,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.BrightText: c.accent_text,
        QPalette.ColorRole.PlaceholderText: c.text_muted,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.accent_text,
        QPalette.ColorRole.Link: c.accent,
        QPalette.ColorRole.LinkVisited: c.accent,
        QPalette.ColorRole.ToolTipBase: c.text,
        QPalette.ColorRole.ToolTipText: c.surface,
        QPalette.ColorRole.Mid: c.border,
        QPalette.ColorRole.Dark: c.border,
        QPalette.ColorRole.Accent: c.accent,
    }
    for role, color in roles.items():
        result.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.text_muted))
    return result
