"""An inline card for one tool call: wrench, name, short arguments, state and duration.

Clicking it selects the call in the side panel. The card is a push button (focus,
keyboard activation, ``click()``) whose label is laid out in child widgets; its
``text()`` says the same in words, for screen readers and tests.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QWidget,
)

from desktop.chat.icon_widgets import IconLabel, tint
from desktop.chat.transcript_model import ToolCallItem
from desktop.style.tokens import SPACING

SPIN_MS = 80  # a spinner frame: smooth enough, and cheap while a reply streams
ICON = 14


def short_arguments(arguments: str, limit: int = 60) -> str:
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False)
    except (ValueError, TypeError):
        text = arguments
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration_text(duration_ms: float) -> str:
    return f"{duration_ms:.0f} ms" if duration_ms < 1000 else f"{duration_ms / 1000:.1f} s"


def card_text(call: ToolCallItem) -> str:
    text = f"{call.name}({short_arguments(call.arguments)}) — {call.status}"
    if call.duration_ms is not None:
        text += f" · {duration_text(call.duration_ms)}"
    return text


class Spinner(QWidget):
    """A turning arc in the accent colour, while it is shown."""

    def __init__(self, size: int = ICON, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(SPIN_MS)
        self._timer.timeout.connect(self._turn)

    def _turn(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def showEvent(self, event: QEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def hideEvent(self, event: QEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(tint(self, "accent")), 2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        arc = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        painter.drawArc(arc, -self._angle * 16, 270 * 16)


class ToolCard(QPushButton):
    def __init__(self, call_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call_id = call_id
        self.setObjectName("toolCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.tool_icon = IconLabel("wrench", "text_muted", ICON)
        self.name_label = QLabel()
        self.name_label.setObjectName("toolName")
        self.args_label = QLabel()
        self.args_label.setObjectName("toolArgs")
        self.spinner = Spinner()
        self.state_icon = IconLabel("circle-check", "success", ICON)
        self.state_label = QLabel()
        self.state_label.setObjectName("toolState")
        self.duration_label = QLabel()
        self.duration_label.setObjectName("toolDuration")
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACING.md - 2, SPACING.sm - 2, SPACING.md, SPACING.sm - 2)
        row.setSpacing(SPACING.sm - 2)
        row.addWidget(self.tool_icon)
        row.addWidget(self.name_label)
        row.addWidget(self.args_label, 1)
        row.addSpacing(SPACING.xs)
        for part in (self.spinner, self.state_icon, self.state_label, self.duration_label):
            row.addWidget(part)
            # Clicks anywhere on the card are the card's.
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        for label in (self.name_label, self.args_label):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.state = ""

    def show_call(self, call: ToolCallItem) -> None:
        text, tip = card_text(call), call.error or call.output or "running…"
        if (text, tip) == (self.text(), self.toolTip()):
            return
        self.setText(text)
        self.setAccessibleName(f"Tool call {text}")
        self.setToolTip(tip)
        self.name_label.setText(call.name)
        self.args_label.setText(short_arguments(call.arguments))
        self.args_label.setVisible(bool(self.args_label.text()))
        running = call.status == "running"
        self.spinner.setVisible(running)
        self.state_icon.setVisible(not running)
        if not running:
            failed = call.status == "error"
            self.state_icon.set_icon(
                "circle-x" if failed else "circle-check", "danger" if failed else "success"
            )
        self._set_state(call.status, {"running": "running…", "error": "failed"}.get(call.status))
        duration = call.duration_ms
        self.duration_label.setText(duration_text(duration) if duration is not None else "")
        self.duration_label.setVisible(duration is not None)
        self.updateGeometry()

    def _set_state(self, state: str, words: str | None) -> None:
        self.state_label.setText(words or "")
        self.state_label.setVisible(bool(words))
        if state != self.state:
            self.state = state
            # The style sheet colours the words by this property: re-polish to apply it.
            self.state_label.setProperty("state", state)
            self.state_label.style().unpolish(self.state_label)
            self.state_label.style().polish(self.state_label)

    def sizeHint(self) -> QSize:
        return self.layout().sizeHint()

    def minimumSizeHint(self) -> QSize:
        return self.layout().minimumSize()

    def paintEvent(self, event: QPaintEvent) -> None:
        # The frame (and focus ring) only: the label is the child widgets.
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        QStylePainter(self).drawControl(QStyle.ControlElement.CE_PushButton, option)
