"""A font at a size and weight of the type scale (``desktop.style.tokens.TYPE``).

Shared by the painted widgets of the list, the welcome view and the header; it belongs
with the tokens in ``desktop/style`` once that package takes a font helper.
"""

from __future__ import annotations

from PySide6.QtGui import QFont

from desktop.style.tokens import TYPE


def sized(base: QFont, points: float, weight: int = TYPE.weight_regular) -> QFont:
    """``base`` (the widget's family) at ``points`` and ``weight``."""
    font = QFont(base)
    font.setPointSizeF(points)
    font.setWeight(QFont.Weight(weight))
    return font
