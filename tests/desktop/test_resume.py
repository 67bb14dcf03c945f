"""Close the window mid-reply and open it again: nothing is gone, the reply finishes."""

from __future__ import annotations

from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from tests.desktop.conftest import close_own_window, open_own_window, until

TOKENS = 300
TOKENS_PER_SECOND = 30


def test_a_reply_in_progress_when_the_window_closed_finishes_after_reopening(
    tmp_path: Path, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    data = DataDir(tmp_path / "data")
    first = open_own_window(data, loop, TOKENS_PER_SECOND)

    async def chat_then_start_a_long_reply() -> tuple[str, str, str]:
        first.composer.setFocus()
        qtbot.keyClicks(first.composer, "[demo tokens=5 tps=0]")
        qtbot.keyClick(first.composer, Qt.Key.Key_Return)
        (done_id,) = first.model.turns
        await until(lambda: first.model.turns[done_id].status == "done", 30, "first reply")
        qtbot.keyClicks(first.composer, f"[demo tokens={TOKENS}]")
        qtbot.keyClick(first.composer, Qt.Key.Key_Return)
        running_id = next(t for t in first.model.turns if t != done_id)
        widget = lambda: first.transcript.widgets.get(running_id)  # noqa: E731
        await until(lambda: widget() is not None and "w10 " in widget().reply_markdown, 30)
        assert first.conversation_id is not None
        return first.conversation_id, done_id, running_id

    conversation_id, done_id, running_id = loop.run_until_complete(chat_then_start_a_long_reply())
    seen_before_close = first.transcript.widgets[running_id].reply_markdown
    assert first.model.turns[running_id].status == "running"
    close_own_window(first, loop)

    second = open_own_window(data, loop, TOKENS_PER_SECOND)

    async def resumed() -> None:
        # The most recent conversation is open again, with everything it had.
        await until(lambda: second.conversation_id == conversation_id, 15, "reopened")
        await until(lambda: running_id in second.transcript.widgets, 15, "turns rebuilt")
        assert second.transcript.widgets[done_id].reply_markdown == "".join(counted_tokens(5))
        widget = second.transcript.widgets[running_id]
        # What it had said comes back from its live stream, replayed from the start.
        said = seen_before_close[: len("w1 w2 w3 ")]
        await until(lambda: widget.reply_markdown.startswith(said), 10, "what it had said")
        # The unfinished reply continues live, with nobody asking, and ends complete.
        assert second.model.turns[running_id].status == "running"
        await until(lambda: second.model.turns[running_id].status == "done", 60, "reply done")
        assert second.client is not None
        view = await second.client.history(conversation_id)
        assert [t.status for t in view.turns] == ["done", "done"]
        assert view.turns[1].reply == "".join(counted_tokens(TOKENS))
        assert widget.reply_markdown == view.turns[1].reply
        assert second.conversation_list.ids()[0] == conversation_id
        # The status bar reports the finished reply's token usage.
        usage = view.turns[1]
        assert usage.output_tokens > 0
        await until(
            lambda: (
                f"{usage.input_tokens:,} → {usage.output_tokens:,} tokens"
                in second.usage_label.text()
            ),
            5,
            "usage shown",
        )

    loop.run_until_complete(resumed())
    close_own_window(second, loop)
