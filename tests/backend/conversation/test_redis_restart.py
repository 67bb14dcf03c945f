"""A subscriber keeps following a reply across a Redis crash and restart."""

from __future__ import annotations

import os
import signal

from backend.client.api import DuraChatClient
from backend.demo_model.script import counted_tokens
from tests.support.chat import on_text_delta, record_turn, with_client
from tests.support.serve_process import ServeProcess


def test_follow_survives_redis_being_killed_mid_reply(serve: ServeProcess) -> None:
    serve.start()
    redis_pid = serve.child_pids()["redis"]

    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        kill = on_text_delta(15, lambda _e: os.kill(redis_pid, signal.SIGKILL))
        return await record_turn(client, "[demo tokens=150 tps=50]", on_event=kill)

    rec = with_client(serve.data_dir, scenario, timeout=120)
    expected = "".join(counted_tokens(150))
    assert rec.turn.status == "done" and rec.turn.reply == expected
    # Nothing duplicated, and the rebuilt transcript is whole again.
    assert rec.rebuilt().text == expected
    seqs = [e.seq for e in rec.events]
    assert len(seqs) == len(set(seqs))
    assert serve.child_pids()["redis"] != redis_pid
