"""The row of actions under a message (Copy, Retry), shown on hover or keyboard focus.

The row always keeps its height, so revealing it never moves the transcript; hidden, it
is fully transparent rather than hidden, so Tab still reaches its buttons, and focusing
one reveals the row. A pinned row (the last reply's) shows without hovering.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QWidget,
)

ROW_HEIGHT = 28


class MessageActions(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self.setFixedHeight(ROW_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(2)
        self._opacity = QGraphicsOpacityEffect(self)
        self._opacity.setOpacity(0.0)
        self.setGraphicsEffect(self._opacity)
        self.buttons: list[QToolButton] = []
        self.hovered = False
        self.pinned = False
        self.revealed = False

    def add(self, button: QToolButton) -> None:
        self._row.addWidget(button)
        self.buttons.append(button)
        button.installEventFilter(self)

    def watch(self, section: QWidget) -> None:
        """Reveal the row while the pointer is over ``section``."""
        section.installEventFilter(self)

    def set_pinned(self, pinned: bool) -> None:
        self.pinned = pinned
        self._update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Enter and watched not in self.buttons:
            self.hovered = True
            self._update()
        elif kind == QEvent.Type.Leave and watched not in self.buttons:
            self.hovered = False
            self._update()
        elif kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._update()
        return False

    def _update(self) -> None:
        revealed = self.pinned or self.hovered or any(b.hasFocus() for b in self.buttons)
        if revealed != self.revealed:
            self.revealed = revealed
            self._opacity.setOpacity(1.0 if revealed else 0.0)
