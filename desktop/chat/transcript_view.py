"""The transcript: one widget per turn (user message, reasoning, tool cards, reply)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.transcript_model import ToolCallItem, TranscriptModel, TurnItem


def short_arguments(arguments: str, limit: int = 60) -> str:
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False)
    except (ValueError, TypeError):
        text = arguments
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_text(call: ToolCallItem) -> str:
    text = f"🔧 {call.name}({short_arguments(call.arguments)}) — {call.status}"
    if call.duration_ms is not None:
        text += f" · {call.duration_ms:.0f} ms"
    return text


class ToolCard(QPushButton):
    """An inline card for one tool call; clicking it selects it in the side panel."""

    def __init__(self, call_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call_id = call_id
        self.setObjectName("toolCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(
            "QPushButton#toolCard { text-align: left; padding: 4px 8px; border: 1px solid "
            "palette(mid); border-radius: 6px; }"
        )

    def show_call(self, call: ToolCallItem) -> None:
        self.setText(card_text(call))
        self.setToolTip(call.error or call.output or "running…")


class TurnWidget(QFrame):
    tool_clicked = Signal(str)

    def __init__(self, turn_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.turn_id = turn_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)

        self.user = QLabel()
        self.user.setObjectName("userMessage")
        self.user.setWordWrap(True)
        self.user.setTextFormat(Qt.TextFormat.PlainText)
        self.user.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.user.setStyleSheet(
            "QLabel#userMessage { background: palette(alternate-base); padding: 6px; "
            "border-radius: 6px; font-weight: bold; }"
        )
        layout.addWidget(self.user)

        self.reasoning_toggle = QToolButton()
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setChecked(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reasoning_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.reasoning_toggle.setText("Reasoning")
        self.reasoning_toggle.setAutoRaise(True)
        self.reasoning_toggle.toggled.connect(self._toggle_reasoning)
        self.reasoning = QLabel()
        self.reasoning.setWordWrap(True)
        self.reasoning.setTextFormat(Qt.TextFormat.PlainText)
        self.reasoning.setStyleSheet("color: palette(placeholder-text); font-style: italic;")
        self.reasoning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.reasoning)
        self.reasoning_toggle.hide()
        self.reasoning.hide()

        self.cards_box = QVBoxLayout()
        layout.addLayout(self.cards_box)
        self.cards: dict[str, ToolCard] = {}

        self.reply = QLabel()
        self.reply.setObjectName("assistantMessage")
        self.reply.setWordWrap(True)
        self.reply.setTextFormat(Qt.TextFormat.MarkdownText)
        self.reply.setOpenExternalLinks(True)
        self.reply.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        layout.addWidget(self.reply)

        self.status = QLabel()
        self.status.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.status)
        self.reply_markdown = ""

    def _toggle_reasoning(self, expanded: bool) -> None:
        self.reasoning_toggle.setArrowType(
            Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
        )
        self.reasoning.setVisible(expanded and bool(self.reasoning.text()))

    def show_turn(self, turn: TurnItem) -> None:
        self.user.setText(turn.user_text)
        if turn.reasoning != self.reasoning.text():
            self.reasoning.setText(turn.reasoning)
        has_reasoning = bool(turn.reasoning)
        self.reasoning_toggle.setVisible(has_reasoning)
        self.reasoning.setVisible(has_reasoning and self.reasoning_toggle.isChecked())

        for call in turn.tool_calls.values():
            card = self.cards.get(call.call_id)
            if card is None:
                card = self.cards[call.call_id] = ToolCard(call.call_id)
                card.clicked.connect(lambda _=False, c=call.call_id: self.tool_clicked.emit(c))
                self.cards_box.addWidget(card)
            card.show_call(call)

        if turn.reply != self.reply_markdown:
            self.reply_markdown = turn.reply
            self.reply.setText(turn.reply)
        self.reply.setVisible(bool(turn.reply))

        status = {
            "queued": "queued…",
            "running": "generating…",
            "stopped": "⏹ stopped",
            "failed": f"⚠ failed: {turn.error or ''}",
        }.get(turn.status, "")
        self.status.setText(status)
        self.status.setVisible(bool(status))


class TranscriptView(QScrollArea):
    """Follows the stream to the bottom unless the user scrolled up."""

    tool_clicked = Signal(str)

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self.widgets: dict[str, TurnWidget] = {}
        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        model.reset.connect(self.rebuild)
        model.turns_changed.connect(self.update_turns)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def _on_range(self, _min: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def rebuild(self) -> None:
        for widget in self.widgets.values():
            widget.deleteLater()
        self.widgets = {}
        self._follow = True
        self.update_turns(list(self.model.turns))

    def update_turns(self, turn_ids: list[str]) -> None:
        for turn_id in turn_ids:
            turn = self.model.turns.get(turn_id)
            if turn is None:
                continue
            widget = self.widgets.get(turn_id)
            if widget is None:
                widget = self.widgets[turn_id] = TurnWidget(turn_id)
                widget.tool_clicked.connect(self.tool_clicked)
                self._layout.insertWidget(self._layout.count() - 1, widget)
            widget.show_turn(turn)
