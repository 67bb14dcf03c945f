"""Light, dark, or whatever the system uses.

Qt 6.8+ can ask the platform for a color scheme (``QStyleHints.setColorScheme``), but a
platform may ignore the request (some Linux desktops, the offscreen platform): then
the palette is set here instead, so "dark" is dark everywhere.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

Theme = Literal["system", "light", "dark"]

_SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

# The roles QPalette(button) does not derive well (it makes a dark Base black and
# every placeholder as loud as text).
_ROLES: dict[str, dict[QPalette.ColorRole, str]] = {
    "light": {
        QPalette.ColorRole.Window: "#efefef",
        QPalette.ColorRole.WindowText: "#1e1e1e",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f5f5f5",
        QPalette.ColorRole.Text: "#1e1e1e",
        QPalette.ColorRole.ButtonText: "#1e1e1e",
        QPalette.ColorRole.PlaceholderText: "#7a7a7a",
        QPalette.ColorRole.Highlight: "#308cc6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#1a62b8",
        QPalette.ColorRole.ToolTipBase: "#ffffdc",
        QPalette.ColorRole.ToolTipText: "#1e1e1e",
    },
    "dark": {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1f1f1f",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8c8c8c",
        QPalette.ColorRole.Highlight: "#2f65ca",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6cb4ff",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
    },
}
_BUTTON = {"light": "#efefef", "dark": "#353535"}
_DISABLED_TEXT = {"light": "#9a9a9a", "dark": "#6e6e6e"}


def apply_theme(app: QApplication, theme: Theme) -> None:
    hints = app.styleHints()
    scheme = _SCHEMES.get(theme)
    if scheme is None:
        hints.unsetColorScheme()  # back to following the system
    else:
        hints.setColorScheme(scheme)
    if scheme is None or hints.colorScheme() == scheme:
        # A default palette drops any palette set here before: the platform's applies.
        app.setPalette(QPalette())
    else:
        app.setPalette(palette(theme))


def palette(theme: Literal["light", "dark"]) -> QPalette:
    result = QPalette(QColor(_BUTTON[theme]))  # derives the bevel shades from the button
    for role, color in _ROLES[theme].items():
        result.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT[theme]))
    return result
