"""Messages written while the backend cannot take them are held, then delivered once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.client.store import ConversationStore
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from desktop.chat.turn_status import HELD
from desktop.main_window import MainWindow
from tests.desktop.conftest import Emissions, close_own_window, open_own_window, until


def temporal_pid(data: DataDir) -> int:
    info = RuntimeInfo.read(data.runtime_file)
    assert info is not None
    return info.children["temporal"].pid


def send(win: MainWindow, qtbot: QtBot, text: str) -> str:
    before = set(win.model.turns)
    qtbot.keyClicks(win.composer, text)
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    (turn_id,) = set(win.model.turns) - before
    return turn_id


def test_held_while_temporal_is_frozen_then_delivered_exactly_once(
    tmp_path: Path, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    data = DataDir(tmp_path / "data")
    win = open_own_window(data, loop)

    async def first_part() -> tuple[str, str]:
        first = send(win, qtbot, "[demo tokens=3]")
        await until(lambda: win.model.turns[first].status == "done", 30, "first reply")
        frozen = temporal_pid(data)
        os.kill(frozen, signal.SIGSTOP)  # Temporal stops answering, as a hung server would
        try:
            held = send(win, qtbot, "written while frozen [demo tokens=4]")
            await until(lambda: win.model.turns[held].status == "held", 30, "held")
            widget = win.transcript.widgets[held]
            await until(lambda: HELD in widget.status.text(), 2, "shown as held")
            assert "held" in win.status_label.text()
            assert held in win.outbox
        finally:
            os.kill(frozen, signal.SIGCONT)
        # Back: the held message goes, once, though its first try may also arrive late.
        await until(lambda: win.model.turns[held].status == "done", 60, "held message answered")
        assert held not in win.outbox

        os.kill(temporal_pid(data), signal.SIGSTOP)
        second = send(win, qtbot, "written before closing [demo tokens=5]")
        await until(lambda: win.model.turns[second].status == "held", 30, "held again")
        assert win.conversation_id is not None
        return win.conversation_id, second

    conversation_id, second = loop.run_until_complete(first_part())
    closed = Emissions(win.closed)
    win.close()  # stops the backend, frozen Temporal included; the message stays held
    loop.run_until_complete(closed.wait_for(timeout=60, what="stopped"))
    win.deleteLater()
    # Still held, in the conversation store, with the window gone.
    with ConversationStore.in_data_dir(data.root) as store:
        assert second in {m.message_id for m in store.undelivered()}

    reopened = open_own_window(data, loop)

    async def delivered_after_restart() -> None:
        await until(lambda: second in reopened.model.turns, 20, "shown again")
        await until(lambda: reopened.model.turns[second].status == "done", 60, "answered")
        assert reopened.client is not None
        view = await reopened.client.history(conversation_id)
        texts = [t.user_text for t in view.turns]
        assert texts == [
            "[demo tokens=3]",
            "written while frozen [demo tokens=4]",
            "written before closing [demo tokens=5]",
        ]
        assert view.turns[2].reply == "".join(counted_tokens(5))
        assert reopened.outbox.pending() == []

    loop.run_until_complete(delivered_after_restart())
    close_own_window(reopened, loop)
