"""The window end to end: composer → real backend → live transcript and tool panel."""

from __future__ import annotations

import json

import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.client.api import DuraChatClient
from backend.demo_model.script import counted_tokens
from desktop.main_window import MainWindow
from tests.desktop.conftest import SettledTurns, type_and_send, until


def test_shift_enter_is_a_new_line_and_enter_sends(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    sent: list[str] = []
    window.composer.submitted.disconnect()
    window.composer.submitted.connect(sent.append)
    qtbot.keyClicks(window.composer, "one")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer, "two")
    assert sent == []
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    assert sent == ["one\ntwo"] and window.composer.toPlainText() == ""


def test_tokens_stream_into_the_transcript_and_end_as_the_history(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        settled = SettledTurns(window.session)
        type_and_send(qtbot, window, "[demo tokens=200 tps=200]")
        (turn_id,) = window.model.turns
        widget = lambda: window.transcript.widgets.get(turn_id)  # noqa: E731
        # Part of the reply is on screen while the turn is still running.
        await until(lambda: widget() is not None and "w5 " in widget().reply_markdown, 20, "tokens")
        assert window.model.turns[turn_id].status == "running"
        assert "w200" not in widget().reply_markdown
        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")
        assert await settled.status_of(turn_id, 5) == "done"

        assert window.conversation_id is not None
        client = window.client
        assert isinstance(client, DuraChatClient)
        view = await client.history(window.conversation_id)
        (turn,) = view.turns
        assert turn.reply == "".join(counted_tokens(200))
        assert window.model.turns[turn_id].reply == turn.reply
        assert widget().reply_markdown == turn.reply
        assert "w200" in widget().reply.text()
        # The stream was coalesced: far fewer repaints than tokens.
        assert window.model.flushes < 150
        # The conversation is listed, most recent first.
        await until(lambda: window.conversations.count() > 0, 5)
        first = window.conversations.item(0).data(Qt.ItemDataRole.UserRole)
        assert first == window.conversation_id

    loop.run_until_complete(scenario())


def test_tool_turn_shows_a_card_and_the_side_panel(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        settled = SettledTurns(window.session)
        window.new_conversation()
        type_and_send(qtbot, window, "what is 12*7?")
        (turn_id,) = window.model.turns
        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")
        assert await settled.status_of(turn_id, 5) == "done"
        widget = window.transcript.widgets[turn_id]
        (card,) = widget.cards.values()
        assert "calculator" in card.text() and "done" in card.text()
        assert "84" in widget.reply_markdown

        qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
        assert window.tool_dock.isVisible()
        details = window.tool_panel.details.toPlainText()
        assert "calculator" in details and "[done]" in details
        assert json.dumps({"expression": "12*7"}, indent=2) in details
        assert "Result:\n84" in details

    loop.run_until_complete(scenario())


def test_reopening_a_conversation_rebuilds_it_from_the_history(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        window.new_conversation()
        type_and_send(qtbot, window, "[demo tokens=30]")
        (turn_id,) = window.model.turns
        await until(lambda: window.model.turns[turn_id].status == "done", 20, "turn done")
        conversation_id = window.conversation_id
        assert conversation_id is not None
        window.new_conversation()
        assert window.transcript.widgets == {}
        window.open_conversation(conversation_id)
        await until(lambda: turn_id in window.transcript.widgets, 10, "reload")
        assert window.transcript.widgets[turn_id].reply_markdown == "".join(counted_tokens(30))

    loop.run_until_complete(scenario())
