"""Fonts of the type scale (``desktop.style.tokens.TYPE``) at the user's text size.

Widgets that set a font of their own (a heading, a painted list row) stop following the
application's font, so Ctrl+plus would pass them by: ``set_sized_font`` remembers what
the widget asked for, and ``rescale_fonts`` sets it again at the new size.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from desktop.style.tokens import TYPE

_POINTS, _WEIGHT = "durachatTypePoints", "durachatTypeWeight"
_scale = {"percent": 100}


def set_text_scale(percent: int) -> None:
    _scale["percent"] = percent


def text_scale() -> int:
    """The text size in use, in percent of the platform's."""
    return _scale["percent"]


def sized(base: QFont, points: float, weight: int = TYPE.weight_regular) -> QFont:
    """``base`` (the widget's family) at ``points`` of the type scale, scaled to the text
    size in use, and ``weight``."""
    font = QFont(base)
    font.setPointSizeF(points * text_scale() / 100)
    font.setWeight(QFont.Weight(weight))
    return font


def set_sized_font(widget: QWidget, points: float, weight: int = TYPE.weight_regular) -> None:
    """Give ``widget`` a font of the type scale that follows later text size changes."""
    widget.setProperty(_POINTS, points)
    widget.setProperty(_WEIGHT, weight)
    widget.setFont(sized(widget.font(), points, weight))


def rescale_fonts(app: QApplication) -> None:
    """Set every ``set_sized_font`` font again, at the text size now in use."""
    for widget in app.allWidgets():
        points = widget.property(_POINTS)
        if points is not None:
            widget.setFont(sized(widget.font(), float(points), int(widget.property(_WEIGHT))))
