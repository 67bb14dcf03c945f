"""The tool panel as a user sees it: an empty state, rows with name, status and
duration, and a call's details with pretty JSON, the result and an error box."""

from __future__ import annotations

import json

from pytestqt.qtbot import QtBot

from desktop.chat.tool_panel import ToolPanel
from desktop.chat.tool_panel_rows import DURATION_ROLE, NAME_ROLE, STATUS_ROLE
from desktop.chat.transcript_model import ToolCallItem, TranscriptModel, TurnItem


def calls_model(*calls: ToolCallItem) -> TranscriptModel:
    model = TranscriptModel()
    model.clear("conversation-1")
    turn = TurnItem("turn-1", "hi", status="done")
    turn.tool_calls = {call.call_id: call for call in calls}
    model.turns[turn.turn_id] = turn
    model.tool_calls_changed.emit()
    return model


def panel_for(qtbot: QtBot, model: TranscriptModel) -> ToolPanel:
    panel = ToolPanel(model)
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    return panel


DONE = ToolCallItem(
    "call-1", "calculator", '{"expression": "12*7"}', "done", "84", None, 1.0, 1.5, 12, 1
)
FAILED = ToolCallItem(
    "call-2", "read_file", '{"path": "/nope"}', "error", None, "FileNotFoundError: /nope",
    2.0, 3.0, 1500, 3,
)  # fmt: skip


def test_no_calls_shows_the_empty_state(qtbot: QtBot) -> None:
    panel = panel_for(qtbot, TranscriptModel())
    assert panel.empty.isVisible() and panel.empty.text() == "No tool calls yet"
    assert not panel.calls.isVisible()


def test_a_row_shows_name_status_and_duration(qtbot: QtBot) -> None:
    panel = panel_for(qtbot, calls_model(DONE, FAILED))
    assert not panel.empty.isVisible() and panel.calls.count() == 2
    row = panel.calls.item(0)
    assert (row.data(NAME_ROLE), row.data(STATUS_ROLE), row.data(DURATION_ROLE)) == (
        "calculator",
        "done",
        "12 ms",
    )
    assert row.text() == "calculator — done · 12 ms"
    assert panel.calls.item(1).data(DURATION_ROLE) == "1.5 s"


def test_selecting_a_row_shows_pretty_arguments_and_the_result(qtbot: QtBot) -> None:
    panel = panel_for(qtbot, calls_model(DONE, FAILED))
    panel.select("call-1")
    details = panel.details
    assert details.name_label.full == "calculator" and details.chip.text() == "done"
    assert details.chip.property("state") == "done"
    assert details.values["call id"].text() == "call-1"
    assert details.values["attempts"].text() == "1"
    assert details.arguments.code.toPlainText() == json.dumps({"expression": "12*7"}, indent=2)
    assert details.result.code.isVisible() and details.result.code.toPlainText() == "84"
    assert details.result.code.isReadOnly() and not details.error_box.isVisible()
    assert "[done]" in details.toPlainText()


def test_a_failed_call_shows_the_error_box(qtbot: QtBot) -> None:
    panel = panel_for(qtbot, calls_model(DONE, FAILED))
    panel.select("call-2")
    details = panel.details
    assert details.error_box.isVisible()
    assert details.error_label.text() == "FileNotFoundError: /nope"
    assert details.chip.property("state") == "error"
    assert not details.result.code.isVisible() and details.result.empty.text() == "No result"


def test_very_long_output_is_cut(qtbot: QtBot) -> None:
    huge = ToolCallItem("call-3", "dump", "{}", "done", "x" * 500_000, None, 1.0, 2.0, 5, 1)
    panel = panel_for(qtbot, calls_model(huge))
    shown = panel.details.result.code.toPlainText()
    assert len(shown) < 110_000 and shown.endswith("more characters not shown)")
