"""Which tokens a widget is painted with: light or dark, read from its palette.

The palette is the one truth every widget can see: ``apply_theme`` sets the window's from
the tokens, and a widget given a palette of its own (a preview, a test) follows that one.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QPalette

from desktop.style.tokens import PALETTES, Palette, Scheme


def scheme_for(palette: QPalette) -> Scheme:
    window = palette.color(QPalette.ColorRole.Window)
    if window.alpha() == 0:
        # A style sheet's "background: transparent" says nothing about light or dark.
        window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return "dark" if window.lightness() < 128 else "light"


def tokens_for(palette: QPalette) -> Palette:
    """The design tokens matching the palette in use: dark when the window is dark."""
    return PALETTES[scheme_for(palette)]


def current_tokens() -> Palette:
    """The tokens of the application's palette."""
    return tokens_for(QGuiApplication.palette())
