"""Redis restarting or losing its data mid-reply: the window falls back to the durable
history and keeps following the stream; the reply on screen is the whole reply."""

from __future__ import annotations

import os
import signal

import qasync
import redis.asyncio as aioredis
from pytestqt.qtbot import QtBot

from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from desktop.main_window import MainWindow
from tests.desktop.conftest import type_and_send, until
from tests.support.serve_process import ServeProcess

TOKENS = 150


def runtime(backend: ServeProcess) -> RuntimeInfo:
    info = RuntimeInfo.read(DataDir(backend.data_dir).runtime_file)
    assert info is not None
    return info


async def reply_survives(win: MainWindow, qtbot: QtBot, fault) -> None:  # type: ignore[no-untyped-def]
    win.new_conversation()
    type_and_send(qtbot, win, f"[demo tokens={TOKENS} tps=60]")
    (turn_id,) = win.model.turns
    await until(lambda: "w20 " in win.model.turns[turn_id].reply, 20, "tokens before the fault")
    await fault()
    assert win.model.turns[turn_id].status == "running"  # the fault hit mid-reply
    await until(lambda: win.model.turns[turn_id].status == "done", 60, "reply done")
    assert win.client is not None and win.conversation_id is not None
    (turn,) = (await win.client.history(win.conversation_id, timeout=10)).turns
    assert turn.reply == "".join(counted_tokens(TOKENS))
    await until(lambda: win.transcript.widgets[turn_id].reply_markdown == turn.reply, 5)


def test_redis_losing_its_data_mid_reply(
    backend: ServeProcess, window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    info = runtime(backend)

    async def flush_all() -> None:
        redis = aioredis.Redis.from_url(info.redis_url())
        try:
            await redis.flushall()
        finally:
            await redis.aclose()

    loop.run_until_complete(reply_survives(window, qtbot, flush_all))


def test_redis_killed_mid_reply(
    backend: ServeProcess, window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def kill_redis() -> None:
        os.kill(runtime(backend).children["redis"].pid, signal.SIGKILL)

    loop.run_until_complete(reply_survives(window, qtbot, kill_redis))
