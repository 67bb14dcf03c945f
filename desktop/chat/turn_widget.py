"""One turn of the transcript, as a widget.

The user's message sits on the right in a bubble; the assistant's side is on the left,
full width, under a role mark: reasoning (collapsible), tool cards, the reply, a failed
turn's error with Retry, and a footer with the status and the message actions (Copy;
Retry on the last reply). Turns sit in a centred column of readable width.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.approval_card import ApprovalCard
from desktop.chat.icon_widgets import CopyButton, IconButton
from desktop.chat.message_actions import ROW_HEIGHT, MessageActions
from desktop.chat.reply_view import ReplyView
from desktop.chat.text_block import TextBlock
from desktop.chat.tool_card import ToolCard
from desktop.chat.transcript_model import ToolCallItem, TurnItem
from desktop.chat.turn_parts import (
    ContextMarker,
    ErrorBox,
    ReasoningSection,
    ReasoningToggle,
    RoleMark,
    UserBubble,
)
from desktop.chat.turn_status import error_text, status_text
from desktop.style.tokens import SPACING

COLUMN_WIDTH = 860  # the widest a turn gets: lines stay readable on a wide window
BUBBLE_SHARE = 0.75  # the user's bubble takes at most this share of the column
DEFAULT_ASSISTANT = "Assistant"


# Each frame of a stream re-shows its turn: calls into Qt that would change nothing are
# skipped, so a frame costs only what actually changed.
def set_shown(widget: QWidget, visible: bool) -> None:
    if widget.isHidden() == visible:
        widget.setVisible(visible)


def set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


class TurnWidget(QFrame):
    """One turn: the user's message, reasoning (collapsible), tool cards, the reply, and
    its status, or for a failed turn the error and a Retry button."""

    tool_clicked = Signal(str)
    retry_requested = Signal(str)  # the turn's user text, to send again
    # A waiting call's approval card was answered: call id, allow, always, reason.
    approval_decided = Signal(str, bool, bool, str)

    def __init__(
        self, turn_id: str, assistant: str = DEFAULT_ASSISTANT, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("turn")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.turn_id = turn_id
        self.user_text = ""
        self.is_last = False
        self._status = "queued"
        layout = self._column = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, SPACING.lg)
        layout.setSpacing(0)
        layout.addWidget(self._build_user())
        layout.addWidget(self._build_assistant(assistant))
        # Made when first needed (most turns never need them): every widget costs
        # memory and style sheet work, times the turns of a long conversation.
        self._context_marker: ContextMarker | None = None
        self._reasoning: ReasoningSection | None = None
        self._error_box: ErrorBox | None = None

    # -- building ----------------------------------------------------------------------

    def _build_user(self) -> QWidget:
        section = QWidget()
        box = QVBoxLayout(section)
        box.setContentsMargins(0, 0, 0, SPACING.xs)
        box.setSpacing(SPACING.xxs)
        self.user_bubble = UserBubble()
        self.user = self.user_bubble.text
        box.addWidget(self.user_bubble, 0, Qt.AlignmentFlag.AlignRight)
        self.user_actions = MessageActions()
        self.user_copy = CopyButton(
            lambda: self.user_text, "Copy message", "Copy message", self.user_actions
        )
        self.user_actions.add(self.user_copy)
        self.user_actions.watch(section)
        box.addWidget(self.user_actions, 0, Qt.AlignmentFlag.AlignRight)
        return section

    def _build_assistant(self, assistant: str) -> QWidget:
        section = QWidget()
        box = self._assistant_box = QVBoxLayout(section)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(SPACING.sm)

        self.role_mark = RoleMark(assistant)
        self.role_mark.hide()
        box.addWidget(self.role_mark)

        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(SPACING.xs + 2)
        box.addLayout(self.cards_box)
        self.cards: dict[str, ToolCard] = {}
        # Calls waiting for the user: their approval card stands where the tool card is.
        self.approvals: dict[str, ApprovalCard] = {}

        self.reply = ReplyView()
        self.reply.setObjectName("assistantMessage")
        self.reply.hide()
        box.addWidget(self.reply)

        # The footer keeps its height whatever it shows (status words while the reply
        # streams, actions once it is done): nothing below it moves.
        footer = QWidget()
        footer.setFixedHeight(ROW_HEIGHT)
        row = QHBoxLayout(footer)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(SPACING.sm)
        self.reply_actions = MessageActions()
        self.reply_copy = CopyButton(
            lambda: self.reply_markdown, "Copy reply (Markdown)", "Copy reply", self.reply_actions
        )
        self.reply_retry = IconButton("rotate-ccw", "Retry: send this message again", "Retry")
        self.reply_retry.clicked.connect(self._retry_reply)
        self.reply_actions.add(self.reply_copy)
        self.reply_actions.add(self.reply_retry)
        self.reply_actions.watch(section)
        self.reply_copy.hide()
        self.reply_retry.hide()
        self.status = QLabel()
        self.status.setObjectName("turnStatus")
        row.addWidget(self.reply_actions, 0, Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.status, 1)
        box.addWidget(footer)
        self.footer = footer
        return section

    @property
    def context_marker(self) -> ContextMarker:
        """The divider above a turn where the model's context starts."""
        if self._context_marker is None:
            self._context_marker = ContextMarker()
            self._context_marker.hide()
            self._column.insertWidget(0, self._context_marker)
        return self._context_marker

    @property
    def reasoning_section(self) -> ReasoningSection:
        if self._reasoning is None:
            self._reasoning = ReasoningSection()
            self._reasoning.hide()
            self._assistant_box.insertWidget(
                self._assistant_box.indexOf(self.role_mark) + 1, self._reasoning
            )
        return self._reasoning

    @property
    def reasoning_toggle(self) -> ReasoningToggle:
        return self.reasoning_section.toggle

    @property
    def reasoning(self) -> TextBlock:
        return self.reasoning_section.text

    @property
    def error_box(self) -> ErrorBox:
        if self._error_box is None:
            self._error_box = ErrorBox()
            self._error_box.hide()
            self._error_box.retry_button.clicked.connect(self._retry)
            self._assistant_box.insertWidget(
                self._assistant_box.indexOf(self.footer), self._error_box
            )
        return self._error_box

    @property
    def error_label(self) -> QLabel:
        return self.error_box.label

    @property
    def retry_button(self) -> QPushButton:
        return self.error_box.retry_button

    # -- reading and acting --------------------------------------------------------------

    @property
    def reply_markdown(self) -> str:
        """The reply's text as the model wrote it (Markdown)."""
        return self.reply.markdown

    def set_assistant_name(self, name: str) -> None:
        self.role_mark.set_name(name)

    def _name_for_screen_readers(self, turn: TurnItem) -> None:
        """Who said what, as a screen reader announces each message. A streaming reply
        is named once it is finished, not at every frame."""
        said = f"You: {_clip(turn.user_text)}"
        if self.user.accessibleName() != said:
            self.user.setAccessibleName(said)
        who = self.role_mark.label.text()
        replied = f"{who}: {_clip(turn.reply)}" if turn.finished else f"{who} is replying"
        if self.reply.accessibleName() != replied:
            self.reply.setAccessibleName(replied)

    def _retry(self) -> None:
        # One resend per click: the new attempt arrives as a turn of its own.
        self.retry_button.setEnabled(False)
        self.retry_requested.emit(self.user_text)

    def _retry_reply(self) -> None:
        self.reply_retry.setEnabled(False)
        self.retry_requested.emit(self.user_text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.user_bubble.fit(int(event.size().width() * BUBBLE_SHARE))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.StyleChange:
            self.user_bubble.fit(int(self.width() * BUBBLE_SHARE))

    # -- showing -------------------------------------------------------------------------

    def show_turn(self, turn: TurnItem, behind_another: bool = False) -> None:
        self._status = turn.status
        if turn.context_starts_here or self._context_marker is not None:
            set_shown(self.context_marker, turn.context_starts_here)
        if turn.user_text != self.user_text:
            self.user_text = turn.user_text
            self.user.set_plain(turn.user_text)
            self.user_bubble.fit(int(self.width() * BUBBLE_SHARE))
        if turn.reasoning or self._reasoning is not None:
            section = self.reasoning_section
            section.show_reasoning(turn.reasoning, turn.status == "running" and not turn.reply)
            set_shown(section, bool(turn.reasoning))

        for call in turn.tool_calls.values():
            card = self.cards.get(call.call_id)
            if card is None:
                card = self.cards[call.call_id] = ToolCard(call.call_id)
                card.clicked.connect(lambda _=False, c=call.call_id: self.tool_clicked.emit(c))
                self.cards_box.addWidget(card, 0, Qt.AlignmentFlag.AlignLeft)
            card.show_call(call)
            self._show_approval(card, call, call.waiting and not turn.finished)

        self.reply.set_markdown(turn.reply)
        set_shown(self.reply, bool(turn.reply))
        self._name_for_screen_readers(turn)

        failed = turn.status == "failed"
        if failed:
            set_text(self.error_label, error_text(turn.error_kind, turn.error_message))
        if failed or self._error_box is not None:
            set_shown(self.error_box, failed)
        answered = bool(turn.reply or turn.reasoning or turn.tool_calls) or failed
        set_shown(self.role_mark, answered or turn.status == "running")
        set_shown(self.reply_copy, bool(turn.reply) and turn.finished)
        self._show_actions()
        self._show_retry()
        self.show_status(turn, behind_another)

    def _show_approval(self, card: ToolCard, call: ToolCallItem, asking: bool) -> None:
        approval = self.approvals.get(call.call_id)
        if asking:
            if approval is None:
                approval = self.approvals[call.call_id] = ApprovalCard(call.call_id)
                approval.decided.connect(self.approval_decided)
                self.cards_box.insertWidget(self.cards_box.indexOf(card) + 1, approval)
            approval.show_call(call)
            # Hidden explicitly (a card just made would otherwise show with its layout).
            card.setVisible(False)
        elif approval is not None:
            # The wait is over: the card gives way to the call's tool card (which takes
            # the keyboard focus if the card had it, so it is not lost).
            focus = QApplication.focusWidget()
            focused = focus is not None and approval.isAncestorOf(focus)
            del self.approvals[call.call_id]
            self.cards_box.removeWidget(approval)
            approval.hide()
            approval.deleteLater()
            set_shown(card, True)
            if focused:
                card.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_decision_error(self, call_id: str, message: str) -> bool:
        """A decision on one of this turn's calls was not taken; False if none waits here."""
        approval = self.approvals.get(call_id)
        if approval is not None:
            approval.show_error(message)
        return approval is not None

    def show_status(self, turn: TurnItem, behind_another: bool) -> None:
        status = status_text(turn, behind_another)
        set_text(self.status, status)
        # A failed turn says so in its error box, above: no second line for it.
        set_shown(self.status, bool(status) and turn.status != "failed")
        waiting = turn.status in ("queued", "held")
        # Words about the user's message (queued, held) sit under it, on the right.
        alignment = Qt.AlignmentFlag.AlignRight if waiting else Qt.AlignmentFlag.AlignLeft
        if self.status.alignment() & Qt.AlignmentFlag.AlignHorizontal_Mask != alignment:
            self.status.setAlignment(alignment | Qt.AlignmentFlag.AlignVCenter)
        self._show_footer()

    def set_last(self, last: bool) -> None:
        """Whether this is the conversation's last turn: its reply offers Retry."""
        if last != self.is_last:
            self.is_last = last
            self._show_retry()

    def _show_retry(self) -> None:
        # A failed turn has its own Retry, in the error box.
        offered = self.is_last and self._status in ("done", "stopped")
        if offered and self.reply_retry.isHidden():
            # Enabled when it is offered anew, not at every frame: a click disables it
            # until then, so one click is one resend.
            self.reply_retry.setEnabled(True)
        set_shown(self.reply_retry, offered)
        self._show_actions()
        self.reply_actions.set_pinned(offered)
        self._show_footer()

    def _show_actions(self) -> None:
        # An empty action row would still push the status words along.
        set_shown(
            self.reply_actions, not (self.reply_copy.isHidden() and self.reply_retry.isHidden())
        )

    def _show_footer(self) -> None:
        shown = (self.status, self.reply_copy, self.reply_retry)
        set_shown(self.footer, any(not part.isHidden() for part in shown))


def _clip(text: str, limit: int = 300) -> str:
    """The start of a message, on one line: enough for a screen reader's summary."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
