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


# What a card says of a call's state, where the status alone would not do.
STATE_WORDS = {
    "running": "running…",
    "waiting": "waiting for approval",
    "error": "failed",
    "denied": "denied",
}
# The state icon (and its colour role) once a call is no longer running.
STATE_ICONS = {
    "done": ("circle-check", "success"),
    "error": ("circle-x", "danger"),
    "waiting": ("shield-alert", "warning"),
    "denied": ("shield-x", "danger"),
}


def state_words(call: ToolCallItem, limit: int = 60) -> str | None:
    """What the card says of the call's state; a denied one says why, when the user did."""
    words = STATE_WORDS.get(call.status)
    reason = (call.error or "").partition(": ")[2] if call.status == "denied" else ""
    if reason:
        words = f"denied: {reason if len(reason) <= limit else reason[: limit - 1] + '…'}"
    return words


def source_text(server: str | None) -> str:
    """Where a tool comes from, in words."""
    return server if server else "built-in"


def card_text(call: ToolCallItem) -> str:
    name = f"{call.name} · {call.server}" if call.server else call.name
    status = "waiting for approval" if call.waiting else call.status
    text = f"{name}({short_arguments(call.arguments)}) — {status}"
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
        self.server_label = QLabel()  # "· server" for an MCP tool
        self.server_label.setObjectName("toolServer")
        self.server_label.hide()
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
        row.addWidget(self.server_label)
        row.addWidget(self.args_label, 1)
        row.addSpacing(SPACING.xs)
        for part in (self.spinner, self.state_icon, self.state_label, self.duration_label):
            row.addWidget(part)
            # Clicks anywhere on the card are the card's.
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        for label in (self.name_label, self.server_label, self.args_label):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.state = ""

    def show_call(self, call: ToolCallItem) -> None:
        text = card_text(call)
        tip = call.error or call.output or STATE_WORDS.get(call.status, call.status)
        if call.server:
            tip = f"{tip}\n(from the MCP server {call.server})"
        if (text, tip) == (self.text(), self.toolTip()):
            return
        self.setText(text)
        self.setAccessibleName(f"Tool call {text}")
        self.setToolTip(tip)
        self.name_label.setText(call.name)
        self.server_label.setText(f"· {call.server}" if call.server else "")
        self.server_label.setVisible(bool(call.server))
        self.args_label.setText(short_arguments(call.arguments))
        self.args_label.setVisible(bool(self.args_label.text()))
        running = call.status == "running"
        self.spinner.setVisible(running)
        self.state_icon.setVisible(not running)
        if not running:
            self.state_icon.set_icon(*STATE_ICONS.get(call.status, STATE_ICONS["done"]))
        self._set_state(call.status, state_words(call))
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
