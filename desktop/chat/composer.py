"""The composer: Enter sends, Shift+Enter is a new line, Esc stops the turn."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy

LINES = 3  # tall enough to see a short paragraph; longer text scrolls


class Composer(QPlainTextEdit):
    submitted = Signal(str)
    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("composer")  # the style sheet's QPlainTextEdit#composer
        self.setPlaceholderText("Message DuraChat…")
        self.setAccessibleName("Message")
        self.setAccessibleDescription("Enter to send, Shift+Enter for a new line, Esc to stop")
        self.setToolTip("Enter to send, Shift+Enter for a new line")
        # Tab moves on to Send (keyboard users must be able to leave the box).
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        # Frame, padding and the document's margin around LINES lines of the font,
        # so it follows the text size.
        lines = self.fontMetrics().lineSpacing() * LINES
        return QSize(
            super().sizeHint().width(), lines + 2 * int(self.document().documentMargin()) + 14
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the text size changed: so does ours
            self.updateGeometry()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            mods & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submit()
            return
        if key == Qt.Key.Key_Escape:
            self.stop_requested.emit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText()
        if text.strip():
            self.clear()
            self.submitted.emit(text)
