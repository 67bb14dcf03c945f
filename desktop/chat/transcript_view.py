"""The transcript: one widget per turn (user message, reasoning, tool cards, reply)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.reply_view import ReplyView
from desktop.chat.text_block import TextBlock
from desktop.chat.transcript_model import ToolCallItem, TranscriptModel, TurnItem
from desktop.chat.turn_status import error_text, status_text


def short_arguments(arguments: str, limit: int = 60) -> str:
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False)
    except (ValueError, TypeError):
        text = arguments
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_text(call: ToolCallItem) -> str:
    text = f"⚙ {call.name}({short_arguments(call.arguments)}) — {call.status}"
    if call.duration_ms is not None:
        text += f" · {call.duration_ms:.0f} ms"
    return text


# Each frame of a stream re-shows its turn: calls into Qt that would change nothing are
# skipped, so a frame costs only what actually changed.
def set_shown(widget: QWidget, visible: bool) -> None:
    if widget.isHidden() == visible:
        widget.setVisible(visible)


def set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


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
        text, tip = card_text(call), call.error or call.output or "running…"
        if (text, tip) != (self.text(), self.toolTip()):
            self.setText(text)
            self.setToolTip(tip)


class TurnWidget(QFrame):
    """One turn: the user's message, reasoning (collapsible), tool cards, the reply, and
    its status, or for a failed turn the error and a Retry button."""

    tool_clicked = Signal(str)
    retry_requested = Signal(str)  # the failed turn's user text

    def __init__(self, turn_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.turn_id = turn_id
        self.user_text = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)

        self.context_marker = QLabel(
            "The model's context starts here: the messages above are kept, not sent to it"
        )
        self.context_marker.setObjectName("contextMarker")
        self.context_marker.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.context_marker.setStyleSheet(
            "QLabel#contextMarker { color: palette(placeholder-text); font-size: 11px; "
            "border-top: 1px dashed palette(mid); padding-top: 4px; }"
        )
        self.context_marker.hide()
        layout.addWidget(self.context_marker)

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
        self.reasoning = TextBlock()
        self.reasoning.setObjectName("reasoning")
        self.reasoning.setStyleSheet(
            "QTextBrowser#reasoning { color: palette(placeholder-text); font-style: italic; }"
        )
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.reasoning)
        self.reasoning_toggle.hide()
        self.reasoning.hide()

        self.cards_box = QVBoxLayout()
        layout.addLayout(self.cards_box)
        self.cards: dict[str, ToolCard] = {}

        self.reply = ReplyView()
        self.reply.setObjectName("assistantMessage")
        layout.addWidget(self.reply)

        self.error_box = QFrame()
        self.error_box.setObjectName("turnError")
        self.error_box.setStyleSheet(
            "QFrame#turnError { border: 1px solid #c0392b; border-radius: 6px; }"
        )
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send this message again")
        self.retry_button.clicked.connect(self._retry)
        error_row = QHBoxLayout(self.error_box)
        error_row.setContentsMargins(8, 6, 8, 6)
        error_row.addWidget(self.error_label, 1)
        error_row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.error_box)
        self.error_box.hide()

        self.status = QLabel()
        self.status.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.status)

    @property
    def reply_markdown(self) -> str:
        """The reply's text as the model wrote it (Markdown)."""
        return self.reply.markdown

    def _toggle_reasoning(self, expanded: bool) -> None:
        self.reasoning_toggle.setArrowType(
            Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
        )
        self.reasoning.setVisible(expanded and bool(self.reasoning.toPlainText()))

    def _retry(self) -> None:
        # One resend per click: the new attempt arrives as a turn of its own.
        self.retry_button.setEnabled(False)
        self.retry_requested.emit(self.user_text)

    def show_turn(self, turn: TurnItem, behind_another: bool = False) -> None:
        set_shown(self.context_marker, turn.context_starts_here)
        if turn.user_text != self.user_text:
            self.user_text = turn.user_text
            self.user.setText(turn.user_text)
        self.reasoning.set_plain(turn.reasoning)
        has_reasoning = bool(turn.reasoning)
        set_shown(self.reasoning_toggle, has_reasoning)
        set_shown(self.reasoning, has_reasoning and self.reasoning_toggle.isChecked())

        for call in turn.tool_calls.values():
            card = self.cards.get(call.call_id)
            if card is None:
                card = self.cards[call.call_id] = ToolCard(call.call_id)
                card.clicked.connect(lambda _=False, c=call.call_id: self.tool_clicked.emit(c))
                self.cards_box.addWidget(card)
            card.show_call(call)

        self.reply.set_markdown(turn.reply)
        set_shown(self.reply, bool(turn.reply))

        failed = turn.status == "failed"
        if failed:
            set_text(self.error_label, error_text(turn.error_kind, turn.error_message))
        set_shown(self.error_box, failed)
        self.show_status(turn, behind_another)

    def show_status(self, turn: TurnItem, behind_another: bool) -> None:
        status = status_text(turn, behind_another)
        set_text(self.status, status)
        set_shown(self.status, bool(status))


class TranscriptView(QScrollArea):
    """Follows the stream to the bottom unless the user scrolled up."""

    tool_clicked = Signal(str)
    retry_requested = Signal(str)  # the user text of a failed turn whose Retry was clicked

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
            widget.hide()  # out of the layout's sums now, deleted once control returns
            widget.deleteLater()
        self.widgets = {}
        self._follow = True
        self.update_turns(list(self.model.turns))

    def update_turns(self, turn_ids: list[str]) -> None:
        changed = set(turn_ids)
        # One pass in conversation order: a queued turn says whether it waits behind one.
        busy = False
        for turn_id, turn in self.model.turns.items():
            widget = self.widgets.get(turn_id)
            if turn_id in changed:
                if widget is None:
                    widget = self.widgets[turn_id] = TurnWidget(turn_id)
                    widget.tool_clicked.connect(self.tool_clicked)
                    widget.retry_requested.connect(self.retry_requested)
                    self._layout.insertWidget(self._layout.count() - 1, widget)
                widget.show_turn(turn, busy)
            elif widget is not None and turn.status == "queued":
                widget.show_status(turn, busy)  # the turn ahead of it may have ended
            busy = busy or not turn.finished
