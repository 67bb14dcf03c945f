"""The card a tool call shows while it waits for the user: what would run, and the
decision — Allow once, Always allow this tool, or Deny (with an optional reason).

It stands in the turn where the call's tool card is, and gives way to that card once
the wait is over (the turn's widget swaps them). Everything is keyboard reachable:
the arguments block (selectable), the buttons, the reason field (Enter denies, Esc
takes the denial back). While a decision is on its way the card is busy (buttons
off); a decision that could not be sent says why in one line and the card is usable
again.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from backend.workflows.conversation_types import MAX_REASON_CHARS
from desktop.chat.icon_widgets import IconLabel
from desktop.chat.tool_card import source_text
from desktop.chat.tool_panel_details import ElidedLabel, Section, pretty
from desktop.chat.transcript_model import ToolCallItem
from desktop.style.tokens import SPACING

SENDING = "Sending your decision…"
REASON_HINT = "Why not? (optional: the assistant is told)"


class ReasonEdit(QLineEdit):
    """The reason for a denial: Enter denies, Esc takes the denial back."""

    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


def _button(text: str, tip: str, variant: str | None = None) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setAccessibleName(text)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    button.setAutoDefault(False)
    if variant:
        button.setProperty("variant", variant)
    return button


class ApprovalCard(QFrame):
    decided = Signal(str, bool, bool, str)  # call id, allow, always, reason ("" for none)

    def __init__(self, call_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call_id = call_id
        self.tool = ""
        self.server: str | None = None
        self.busy = False
        self.setObjectName("approvalCard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        self.icon = IconLabel("shield-alert", "warning", 18)
        self.title = QLabel()
        self.title.setObjectName("approvalTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.source_chip = QLabel()
        self.source_chip.setObjectName("approvalSource")
        self.note = QLabel()
        self.note.setObjectName("approvalNote")
        self.note.setWordWrap(True)
        head = QHBoxLayout()
        head.setSpacing(SPACING.sm)
        head.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        head.addWidget(self.source_chip, 0, Qt.AlignmentFlag.AlignTop)

        self.arguments = Section("Arguments")

        self.allow_button = _button(
            "Allow once", "Run this call, and ask again next time", "primary"
        )
        self.always_button = _button(
            "Always allow this tool", "Run this call, and from now on this tool without asking"
        )
        self.deny_button = _button("Deny", "Do not run this call", "danger")
        self.allow_button.clicked.connect(lambda: self._decide(True, False))
        self.always_button.clicked.connect(lambda: self._decide(True, True))
        self.deny_button.clicked.connect(self._ask_reason)
        self.choices = QWidget()
        choices = QHBoxLayout(self.choices)
        choices.setContentsMargins(0, 0, 0, 0)
        choices.setSpacing(SPACING.sm)
        choices.addWidget(self.allow_button)
        choices.addWidget(self.always_button)
        choices.addStretch(1)
        choices.addWidget(self.deny_button)

        self.reason_edit = ReasonEdit()
        self.reason_edit.setObjectName("approvalReason")
        self.reason_edit.setPlaceholderText(REASON_HINT)
        self.reason_edit.setAccessibleName("Reason for denying (optional)")
        self.reason_edit.setMaxLength(MAX_REASON_CHARS)
        self.reason_edit.returnPressed.connect(self._deny)
        self.reason_edit.cancelled.connect(self._take_back)
        self.confirm_deny = _button(
            "Deny call", "Deny this call, telling the assistant why", "danger"
        )
        self.confirm_deny.clicked.connect(self._deny)
        self.cancel_deny = _button("Cancel", "Do not deny: back to the choices (Esc)", "ghost")
        self.cancel_deny.clicked.connect(self._take_back)
        self.deny_row = QWidget()
        deny_row = QHBoxLayout(self.deny_row)
        deny_row.setContentsMargins(0, 0, 0, 0)
        deny_row.setSpacing(SPACING.sm)
        deny_row.addWidget(self.reason_edit, 1)
        deny_row.addWidget(self.confirm_deny)
        deny_row.addWidget(self.cancel_deny)
        self.deny_row.hide()

        self.state_label = QLabel()  # "Sending your decision…"
        self.state_label.setObjectName("approvalState")
        self.state_label.hide()
        self.error_label = ElidedLabel()  # one line; the whole of it in its tooltip
        self.error_label.setObjectName("approvalError")
        self.error_label.hide()

        column = QVBoxLayout(self)
        column.setContentsMargins(SPACING.md, SPACING.md, SPACING.md, SPACING.md)
        column.setSpacing(SPACING.sm)
        column.addLayout(head)
        column.addWidget(self.note)
        column.addWidget(self.arguments)
        column.addWidget(self.choices)
        column.addWidget(self.deny_row)
        column.addWidget(self.state_label)
        column.addWidget(self.error_label)

    # -- showing -------------------------------------------------------------------------

    def show_call(self, call: ToolCallItem) -> None:
        if (call.name, call.server) != (self.tool, self.server) or not self.title.text():
            self.tool, self.server = call.name, call.server
            self.title.setText(f"Allow <b>{html.escape(call.name)}</b> to run?")
            self.source_chip.setText(source_text(call.server))
            self.source_chip.setToolTip(
                f"From the MCP server {call.server}" if call.server else "A tool of DuraChat's own"
            )
            where = f"the MCP server {call.server}" if call.server else "DuraChat's built-in tools"
            self.note.setText(
                f"The assistant wants to run this tool from {where}. "
                "It runs only if you allow it; the reply waits for your decision."
            )
            self.setAccessibleName(f"Approval needed: {call.name} ({source_text(call.server)})")
            self.always_button.setToolTip(
                f"Run this call, and from now on {call.name} without asking"
            )
        self.arguments.show_text(pretty(call.arguments), "No arguments")

    @property
    def title_text(self) -> str:
        """The title in plain words (for tests and screen readers)."""
        return f"Allow {self.tool} to run?"

    def _buttons(self) -> tuple[QWidget, ...]:
        return (
            self.allow_button,
            self.always_button,
            self.deny_button,
            self.reason_edit,
            self.confirm_deny,
            self.cancel_deny,
        )

    def set_busy(self, busy: bool) -> None:
        """A decision is on its way: nothing can be clicked until it is answered."""
        self.busy = busy
        for widget in self._buttons():
            widget.setEnabled(not busy)
        self.state_label.setText(SENDING if busy else "")
        self.state_label.setVisible(busy)
        if busy:
            self.error_label.hide()

    def show_error(self, message: str) -> None:
        """The decision was not taken: why, in one line; the card is usable again."""
        self.set_busy(False)
        self.error_label.set_full_text(" ".join(message.split()))
        self.error_label.show()

    # -- deciding ------------------------------------------------------------------------

    def _decide(self, allow: bool, always: bool, reason: str = "") -> None:
        if self.busy:
            return
        self.set_busy(True)
        self.decided.emit(self.call_id, allow, always, reason)

    def _ask_reason(self) -> None:
        self.choices.hide()
        self.deny_row.show()
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _take_back(self) -> None:
        if self.busy:
            return
        self.deny_row.hide()
        self.choices.show()
        self.deny_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _deny(self) -> None:
        self._decide(False, False, self.reason_edit.text().strip())
