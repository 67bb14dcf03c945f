"""The list widget under the delegate: rows only clickable on themselves, hover per row,
a focus ring only for keyboard users, and a line when there is nothing to list."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListWidget, QListWidgetItem, QWidget

from desktop.conversations.list_delegate import ConversationDelegate
from desktop.style.fonts import sized
from desktop.style.scheme import tokens_for
from desktop.style.tokens import SPACING, TYPE


class ConversationItems(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delegate = ConversationDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.setUniformItemSizes(False)  # rows that open a day group are taller
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)  # the sidebar shows through
        self.setAccessibleName("Conversations")
        self.hovered_row = -1
        self.keyboard_focus = False  # the focus ring shows only after keys moved focus
        self.empty_text = "No conversations yet"
        self._press_on_header = False

    # -- where the pointer is ------------------------------------------------------------

    def row_at(self, point: QPoint) -> QListWidgetItem | None:
        """The conversation under a viewport point; None on a day header or below."""
        item = self.itemAt(point)
        if item is None:
            return None
        index = self.indexFromItem(item)
        return item if self.delegate.band_at(self.visualItemRect(item), index, point) else None

    def _set_hovered(self, row: int) -> None:
        if row == self.hovered_row:
            return
        for old_or_new in (self.hovered_row, row):
            if (item := self.item(old_or_new)) is not None:
                self.viewport().update(self.visualItemRect(item))
        self.hovered_row = row

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        item = self.row_at(event.position().toPoint())
        self._set_hovered(self.row(item) if item is not None else -1)
        super().mouseMoveEvent(event)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # The rows moved under a still pointer: the hover follows the row beneath it.
        point = self.viewport().mapFromGlobal(QCursor.pos())
        item = self.row_at(point) if self.viewport().rect().contains(point) else None
        self._set_hovered(self.row(item) if item is not None else -1)

    def leaveEvent(self, event: QEvent) -> None:
        self._set_hovered(-1)
        super().leaveEvent(event)

    # -- headers take no clicks ----------------------------------------------------------

    def _on_header(self, event: QMouseEvent) -> bool:
        point = event.position().toPoint()
        return self.itemAt(point) is not None and self.row_at(point) is None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.keyboard_focus = False
        self._press_on_header = self._on_header(event)
        if self._press_on_header:
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press_on_header or self._on_header(event):
            self._press_on_header = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._on_header(event):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.keyboard_focus:
            self.keyboard_focus = True
            self.viewport().update()
        super().keyPressEvent(event)

    # -- nothing to list -----------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.count() or not self.empty_text:
            return
        painter = QPainter(self.viewport())
        painter.setFont(sized(self.font(), TYPE.small))
        painter.setPen(QColor(tokens_for(self.palette()).text_muted))
        area = self.viewport().rect().adjusted(SPACING.lg, SPACING.xl, -SPACING.lg, 0)
        painter.drawText(
            area,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            self.empty_text,
        )
