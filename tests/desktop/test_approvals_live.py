"""A tool call under policy "ask", end to end: the window on a real backend whose
mcp.json names the test MCP server (a real stdio subprocess); the demo model calls
its ``append_line``, the turn waits, the approval card shows, Allow once lets it run
and the reply carries the tool's result."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.mcp import config as mcp_config
from backend.mcp.status import current, read_statuses
from desktop.main_window import MainWindow
from tests.desktop.conftest import Emissions, SettledTurns, type_and_send, until
from tests.support.serve_process import REPO_ROOT, ServeProcess

SERVER = "testmcp"


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, markers: Path) -> Iterator[ServeProcess]:
    """This module's backend, with the test MCP server configured before it starts."""
    data = DataDir(tmp_path_factory.mktemp("backend") / "data").ensure()
    mcp_config.add_server(
        data.mcp_file,
        SERVER,
        {
            "command": sys.executable,
            "args": ["-m", "tests.support.mcp_server", "--transport", "stdio",
                     "--marker-dir", str(markers)],
            "env": {"PYTHONPATH": str(REPO_ROOT)},
        },
    )  # fmt: skip
    sp = ServeProcess(data.root, args=["--demo-tokens-per-second", "0"])
    sp.start()
    yield sp
    sp.close()


def server_ready(data: DataDir) -> bool:
    found = current(mcp_config.load(data.mcp_file), read_statuses(data.mcp_status_file))
    return any(s.name == SERVER and s.status == "ready" for s in found)


def test_allow_once_on_the_card_lets_the_waiting_call_run(
    window: MainWindow, markers: Path, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        await until(lambda: server_ready(window.data), 60, "the MCP server checked ready")
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, 'do it [demo tool=append_line:{"text":"x"}]')
        (turn_id,) = window.model.turns
        await until(lambda: window.model.waiting_calls(), 60, "the call to wait")
        (call,) = window.model.waiting_calls()
        await until(lambda: window.transcript.approval_card(call.call_id), 5, "the card")
        card = window.transcript.approval_card(call.call_id)
        assert card is not None and card.isVisible()
        assert card.title_text == "Allow append_line to run?"
        assert (
            card.source_chip.text() == SERVER and '"text": "x"' in card.arguments.code.toPlainText()
        )
        conversation_id = window.conversation_id
        assert conversation_id is not None
        await until(lambda: window.conversation_list.is_waiting(conversation_id), 10, "marked")
        assert not (markers / "appended.txt").exists()  # nothing ran before the decision

        qtbot.mouseClick(card.allow_button, Qt.MouseButton.LeftButton)
        assert await settled.status_of(turn_id, 60) == "done"
        assert "appended (1 lines)" in window.model.turns[turn_id].reply
        assert (markers / "appended.txt").read_text() == "x\n"
        assert window.transcript.approval_card(call.call_id) is None
        done = window.model.tool_call(call.call_id)
        assert done is not None and (done.status, done.server) == ("done", SERVER)
        await until(lambda: not window.conversation_list.is_waiting(conversation_id), 10, "clear")

    loop.run_until_complete(scenario())


def test_a_wait_left_behind_stays_marked_and_its_card_comes_back_to_deny(
    window: MainWindow, markers: Path, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    appended = markers / "appended.txt"
    before = appended.read_text() if appended.exists() else ""

    async def scenario() -> None:
        await until(lambda: server_ready(window.data), 60, "the MCP server checked ready")
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, 'not this [demo tool=append_line:{"text":"no"}]')
        (turn_id,) = window.model.turns
        await until(lambda: window.model.waiting_calls(), 60, "the call to wait")
        (call,) = window.model.waiting_calls()
        conversation_id = window.conversation_id
        assert conversation_id is not None
        window.new_conversation()  # the reply waits on, unseen: the list says so
        await until(lambda: window.conversation_list.is_waiting(conversation_id), 10, "marked")

        window.open_conversation(conversation_id)
        await until(lambda: window.transcript.approval_card(call.call_id), 10, "the card again")
        card = window.transcript.approval_card(call.call_id)
        assert card is not None
        qtbot.mouseClick(card.deny_button, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(card.reason_edit, "not today")
        qtbot.mouseClick(card.confirm_deny, Qt.MouseButton.LeftButton)
        assert await settled.status_of(turn_id, 60) == "done"
        denied = window.model.tool_call(call.call_id)
        assert denied is not None and denied.status == "denied"
        assert denied.error == "denied by the user: not today"
        widget = window.transcript.widgets[turn_id]
        assert widget.cards[call.call_id].state_label.text() == "denied: not today"
        assert window.transcript.approval_card(call.call_id) is None
        assert "not today" in window.model.turns[turn_id].reply  # the model was told why
        await until(lambda: not window.conversation_list.is_waiting(conversation_id), 10, "clear")

    loop.run_until_complete(scenario())
    assert (appended.read_text() if appended.exists() else "") == before  # it never ran


def test_a_decision_on_a_call_that_no_longer_waits_says_so(
    window: MainWindow, loop: qasync.QEventLoop
) -> None:
    decisions = Emissions(window.session.decision_done)

    async def scenario() -> tuple[str, str]:
        window.session.decide("call-decided-elsewhere", True)
        return await decisions.wait_for(what="the decision's outcome")  # type: ignore[return-value]

    call_id, error = loop.run_until_complete(scenario())
    assert call_id == "call-decided-elsewhere"
    assert error.startswith("This call no longer waits for a decision: ")
