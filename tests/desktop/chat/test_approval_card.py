"""A tool call waiting for the user's approval, as the transcript shows it: the approval
card (what would run, from where, with what arguments) and its decision buttons,
from a wait the store lists and from the live events; the card giving way to the
tool card once decided; the tool panel's waiting and denied calls."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.stream.events import ApprovalRequested, ApprovalSettled, ToolCall, TurnCancelled
from backend.workflows.conversation_types import MAX_REASON_CHARS, PendingApproval
from desktop.chat.approval_card import SENDING, ApprovalCard
from desktop.chat.tool_panel import ToolPanel
from desktop.chat.tool_panel_rows import SERVER_ROLE, STATUS_ROLE
from desktop.chat.transcript_model import NOT_DECIDED, TranscriptModel, TurnItem
from desktop.chat.transcript_view import TranscriptView
from desktop.chat.turn_status import WAITING

CID, TID, CALL = "conversation-1", "turn-1", "call-1"
ARGS = '{"text": "x", "lines": [1, 2]}'


def pending(server: str | None = "myserver", call_id: str = CALL) -> PendingApproval:
    return PendingApproval(
        conversation_id=CID,
        turn_id=TID,
        call_id=call_id,
        tool="append_line",
        server=server,
        arguments=ARGS,
        requested_at=1_700_000_000.0,
    )


def event(kind: Any, **fields: Any) -> Any:
    """A live event of the call CALL of turn TID."""
    return kind(conversation_id=CID, turn_id=TID, call_id=CALL, **fields)


def running_view(qtbot: QtBot) -> TranscriptView:
    """A conversation whose reply is being generated, shown in a transcript."""
    model = TranscriptModel()
    model.clear(CID)
    model.turns[TID] = TurnItem(TID, "do it", status="running")
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(860, 900)
    view.show()
    view.rebuild()
    return view


def shown(view: TranscriptView) -> None:
    view.model.flush()
    for _ in range(3):
        QApplication.processEvents()


def card_of(view: TranscriptView) -> ApprovalCard:
    card = view.approval_card(CALL)
    assert card is not None, "no approval card"
    return card


def test_a_wait_the_store_lists_shows_its_card_with_server_and_pretty_arguments(
    qtbot: QtBot,
) -> None:
    view = running_view(qtbot)
    view.model.add_approval(pending())
    shown(view)
    card = card_of(view)
    turn = view.widgets[TID]
    assert card.isVisible() and not turn.cards[CALL].isVisible()  # it stands in its place
    assert card.title_text == "Allow append_line to run?"
    assert "<b>append_line</b>" in card.title.text()
    assert card.source_chip.text() == "myserver" and "myserver" in card.note.text()
    code = card.arguments.code
    assert code.toPlainText() == json.dumps(json.loads(ARGS), indent=2)
    assert code.isReadOnly() and code.textInteractionFlags() & (
        Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    buttons = [card.allow_button, card.always_button, card.deny_button]
    assert [b.text() for b in buttons] == ["Allow once", "Always allow this tool", "Deny"]
    assert all(b.isEnabled() and b.focusPolicy() == Qt.FocusPolicy.StrongFocus for b in buttons)
    assert not card.deny_row.isVisible() and not card.error_label.isVisible()
    assert turn.status.text() == WAITING
    # Read again (the store is read at every list refresh): still one card, unchanged.
    view.model.add_approval(pending())
    shown(view)
    assert list(turn.approvals) == [CALL] and view.approval_card(CALL) is card


def test_a_built_in_tool_says_so(qtbot: QtBot) -> None:
    view = running_view(qtbot)
    view.model.add_approval(pending(server=None))
    shown(view)
    card = card_of(view)
    assert card.source_chip.text() == "built-in" and "built-in tools" in card.note.text()


def test_live_events_show_the_card_and_a_denial_turns_it_into_a_denied_tool_card(
    qtbot: QtBot,
) -> None:
    view = running_view(qtbot)
    model = view.model
    model.apply_event(event(ToolCall, name="append_line", arguments=ARGS))
    shown(view)
    assert view.approval_card(CALL) is None  # a call that runs has no card
    model.apply_event(
        event(ApprovalRequested, name="append_line", server="myserver", arguments=ARGS)
    )
    shown(view)
    assert card_of(view).isVisible()
    assert [c.call_id for c in model.waiting_calls()] == [CALL]

    model.apply_event(event(ApprovalSettled, allowed=False, reason="  not   now "))
    shown(view)
    turn = view.widgets[TID]
    tool_card = turn.cards[CALL]
    assert view.approval_card(CALL) is None and tool_card.isVisible()
    assert tool_card.state_label.text() == "denied: not now"
    assert tool_card.state_icon.name == "shield-x"
    assert tool_card.server_label.text() == "· myserver"
    assert tool_card.toolTip().startswith("denied by the user: not now")
    # A replayed request (following the turn again from its start) brings no card back.
    model.add_approval(pending())
    shown(view)
    assert view.approval_card(CALL) is None


def test_an_allowed_call_runs_and_a_stop_ends_a_wait_as_not_run(qtbot: QtBot) -> None:
    view = running_view(qtbot)
    model = view.model
    model.add_approval(pending())
    model.add_approval(pending(call_id="call-2"))
    shown(view)
    model.apply_event(event(ApprovalSettled, allowed=True))
    shown(view)
    turn = view.widgets[TID]
    assert view.approval_card(CALL) is None and turn.cards[CALL].spinner.isVisible()
    assert view.approval_card("call-2") is not None

    model.apply_event(TurnCancelled(conversation_id=CID, turn_id=TID))
    shown(view)
    assert view.approval_card("call-2") is None
    assert model.tool_call("call-2").error == NOT_DECIDED  # type: ignore[union-attr]
    assert turn.cards["call-2"].state_label.text() == "failed"


def test_the_buttons_say_the_decision_and_a_refused_one_shows_one_line(qtbot: QtBot) -> None:
    view = running_view(qtbot)
    view.model.add_approval(pending())
    shown(view)
    card = card_of(view)
    decided: list[tuple[str, bool, bool, str]] = []
    view.approval_decided.connect(lambda *args: decided.append(args))

    qtbot.mouseClick(card.allow_button, Qt.MouseButton.LeftButton)
    assert decided == [(CALL, True, False, "")]
    assert card.busy and not card.allow_button.isEnabled() and not card.deny_button.isEnabled()
    assert card.state_label.text() == SENDING
    qtbot.mouseClick(card.always_button, Qt.MouseButton.LeftButton)  # off while busy
    assert len(decided) == 1

    view.show_decision_error(CALL, "Not sent: the backend is not\nreachable")
    assert card.error_label.isVisible() and card.error_label.full == (
        "Not sent: the backend is not reachable"
    )
    assert not card.busy and card.always_button.isEnabled()
    qtbot.mouseClick(card.always_button, Qt.MouseButton.LeftButton)
    assert decided[-1] == (CALL, True, True, "")
    assert not card.error_label.isVisible()  # a new try: the old error goes


def test_deny_asks_for_an_optional_reason_from_the_keyboard(qtbot: QtBot) -> None:
    view = running_view(qtbot)
    view.model.add_approval(pending())
    shown(view)
    card = card_of(view)
    decided: list[tuple[str, bool, bool, str]] = []
    card.decided.connect(lambda *args: decided.append(args))
    view.activateWindow()

    card.deny_button.setFocus()
    qtbot.keyClick(card.deny_button, Qt.Key.Key_Space)
    assert card.deny_row.isVisible() and not card.choices.isVisible()
    assert card.reason_edit.hasFocus() and card.reason_edit.maxLength() == MAX_REASON_CHARS
    qtbot.keyClick(card.reason_edit, Qt.Key.Key_Escape)  # taken back
    assert card.choices.isVisible() and not card.deny_row.isVisible() and decided == []

    qtbot.mouseClick(card.deny_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(card.reason_edit, "  not on my disk ")
    qtbot.keyClick(card.reason_edit, Qt.Key.Key_Return)
    assert decided == [(CALL, False, False, "not on my disk")]
    assert not card.confirm_deny.isEnabled()


def test_the_tool_panel_shows_waiting_and_denied_calls_with_their_server(qtbot: QtBot) -> None:
    model = TranscriptModel()
    model.clear(CID)
    model.turns[TID] = TurnItem(TID, "do it", status="running")
    panel = ToolPanel(model)
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    model.add_approval(pending())
    model.flush()
    row = panel.calls.item(0)
    assert row.text() == "append_line · myserver — waiting for approval"
    assert (row.data(STATUS_ROLE), row.data(SERVER_ROLE)) == ("waiting", "myserver")
    details = panel.details
    assert details.chip.text() == "waiting for approval"
    assert details.values["from"].text() == "MCP server myserver"
    assert details.result.empty.text() == "Waiting for your approval: not run yet"

    model.settle_approval(CALL, False, "no")
    model.flush()
    assert panel.calls.item(0).data(STATUS_ROLE) == "denied"
    assert details.chip.text() == "denied" and details.chip.property("state") == "denied"
    assert details.error_box.isVisible() and details.error_label.text() == "denied by the user: no"
    assert details.result.empty.text() == "Denied: not run"
