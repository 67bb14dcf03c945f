"""Conversations end to end: real Temporal, real Redis, the demo model over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from pathlib import Path

from backend.client.api import DuraChatClient, new_message_id
from backend.demo_model.script import counted_tokens
from backend.local.settings import Settings
from backend.temporal_connect import connect
from tests.support.chat import (
    FILE_TOOLS_ALLOWED,
    TurnRecording,
    on_text_delta,
    record_turn,
    with_client,
)
from tests.support.history_text import decrypted_text
from tests.support.serve_process import ServeProcess


def words(n: int) -> str:
    return "".join(counted_tokens(n))


def test_plain_turn_streams_exactly_the_durable_reply(backend: ServeProcess) -> None:
    rec = with_client(backend.data_dir, lambda c: record_turn(c, "[demo tokens=40]"))

    assert rec.turn.status == "done"
    assert rec.turn.reply == words(40)
    assert "".join(e.text for e in rec.of_type("text_delta")) == rec.turn.reply
    seqs = [e.seq for e in rec.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(b == a + 1 for a, b in itertools.pairwise(seqs))  # gap-free
    kinds = [e.type for e in rec.events]
    assert kinds[0] == "turn_started" and kinds[-1] == "turn_done"
    assert rec.of_type("turn_done")[0].output_tokens > 0
    assert all(e.conversation_id == rec.conversation_id for e in rec.events)
    assert rec.view is not None and rec.view.title == "[demo tokens=40]"


def test_tool_turn_streams_and_records_the_call(backend: ServeProcess) -> None:
    rec = with_client(backend.data_dir, lambda c: record_turn(c, "what is 12*7?"))

    (call,) = rec.of_type("tool_call")
    assert call.name == "calculator"
    assert json.loads(call.arguments) == {"expression": "12*7"}
    (result,) = rec.of_type("tool_result")
    assert result.call_id == call.call_id and result.output == "84" and result.error is None
    (record,) = rec.turn.tool_calls
    assert record.name == "calculator" and record.status == "done"
    assert json.loads(record.arguments) == {"expression": "12*7"}
    assert record.output == "84" and record.attempts == 1 and record.duration_ms is not None
    assert "84" in rec.turn.reply


def test_file_outside_granted_folder_is_a_tool_error(
    backend: ServeProcess, settings_file: Path, tmp_path: Path
) -> None:
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "notes.txt").write_text("hello from the granted folder")
    Settings(granted_folder=str(granted), tool_policies=FILE_TOOLS_ALLOWED).save(settings_file)

    inside = with_client(
        backend.data_dir,
        lambda c: record_turn(c, '[demo tool=read_file:{"path":"notes.txt"}]'),
    )
    assert inside.turn.tool_calls[0].output == "hello from the granted folder"

    outside = with_client(
        backend.data_dir,
        lambda c: record_turn(c, '[demo tool=read_file:{"path":"../../../etc/passwd"}]'),
    )
    assert outside.turn.status == "done"  # the turn goes on; the model is told
    (record,) = outside.turn.tool_calls
    assert record.status == "error" and "outside the granted folder" in (record.error or "")
    (result,) = outside.of_type("tool_result")
    assert "outside the granted folder" in (result.error or "")


def test_dropped_connection_is_retried_without_duplicate_text(backend: ServeProcess) -> None:
    rec = with_client(
        backend.data_dir, lambda c: record_turn(c, "[demo tokens=60 fault=drop@25x1]")
    )

    assert rec.turn.status == "done"
    assert rec.turn.reply == words(60)  # exactly once in the durable history
    retries = [e for e in rec.of_type("attempt_started") if e.retry]
    assert len(retries) == 1 and retries[0].attempt == 2
    # The failed attempt did stream 25 tokens before the drop...
    assert any(e.attempt == 1 for e in rec.of_type("text_delta"))
    # ...and the subscriber's rebuilt transcript holds the reply once.
    assert rec.rebuilt().text == rec.turn.reply


def test_stop_cancels_mid_stream_and_keeps_the_partial_reply(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        stop = on_text_delta(10, lambda e: client.stop(e.conversation_id, e.turn_id))
        return await record_turn(client, "[demo tokens=400 tps=40]", on_event=stop)

    rec = with_client(backend.data_dir, scenario)
    assert rec.turn.status == "stopped"
    (cancelled,) = rec.of_type("turn_cancelled")
    assert cancelled.partial == rec.turn.reply
    assert 10 * len("w1 ") <= len(rec.turn.reply) < len(words(400))
    assert words(400).startswith(rec.turn.reply)


def test_resent_message_id_is_applied_once(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        message_id = new_message_id()
        first = await record_turn(client, "[demo tokens=5]", message_id=message_id)
        await client.send("[demo tokens=5]", first.conversation_id, message_id)  # a resend
        second = await record_turn(client, "[demo tokens=3]", first.conversation_id)
        return second.view

    view = with_client(backend.data_dir, scenario)
    assert [t.reply for t in view.turns] == [words(5), words(3)]


def test_messages_sent_during_a_turn_are_all_answered_in_order(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        first = await client.send("[demo tokens=30 tps=100]")
        cid = first.conversation_id
        await client.send("[demo tokens=2]", cid)
        last = await client.send("[demo tokens=3]", cid)
        view = await client.history(cid)
        assert [t.status for t in view.turns][1:] == ["queued", "queued"]
        async for _ in client.follow_turn(cid, last.message_id, first.stream_after):
            pass
        return await client.history(cid)

    view = with_client(backend.data_dir, scenario)
    assert [t.status for t in view.turns] == ["done", "done", "done"]
    assert [t.reply for t in view.turns] == [words(30), words(2), words(3)]


def test_continue_as_new_keeps_the_whole_history(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        client.limits = client.limits.model_copy(update={"max_events": 40})
        cid = None
        for i in range(1, 7):
            rec = await record_turn(client, f"[demo tokens={i}]", cid)
            cid = rec.conversation_id
        # The model still sees the earlier turns after continue-as-new.
        rec = await record_turn(client, "what is 2+3?", cid)
        runs = [wf async for wf in client.temporal.list_workflows(f"WorkflowId = '{cid}'")]
        return rec, len(runs)

    rec, runs = with_client(backend.data_dir, scenario, timeout=120)
    view = rec.view
    assert view is not None and runs > 1
    assert [t.reply for t in view.turns[:6]] == [words(i) for i in range(1, 7)]
    assert rec.turn.status == "done" and "5" in rec.turn.reply


def test_chat_completions_and_responses_paths(backend: ServeProcess, settings_file: Path) -> None:
    for api in ("chat_completions", "responses"):
        Settings(api=api).save(settings_file)
        rec = with_client(
            backend.data_dir, lambda c: record_turn(c, "[demo tokens=12 reasoning=4]")
        )
        assert rec.turn.status == "done", api
        assert rec.turn.reply == words(12), api
        assert "".join(e.text for e in rec.of_type("text_delta")) == words(12), api
        if api == "responses":
            assert "".join(e.text for e in rec.of_type("reasoning_delta")) == "".join(
                counted_tokens(4, "r")
            )


def test_provider_errors_are_retried_or_reported(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        recovered_429 = await record_turn(client, "[demo tokens=4 fault=429:1x1]")
        recovered_500 = await record_turn(client, "[demo tokens=4 fault=500x1]")
        bad_key = await record_turn(client, "[demo tokens=4 fault=401]")
        history = await client.temporal.get_workflow_handle(bad_key.conversation_id).fetch_history()
        return recovered_429, recovered_500, bad_key, decrypted_text(history)

    r429, r500, r401, history = with_client(backend.data_dir, scenario)
    for rec in (r429, r500):
        assert rec.turn.status == "done" and rec.turn.reply == words(4)
        assert [e.attempt for e in rec.of_type("attempt_started")] == [1, 2]
    gap = r429.of_type("attempt_started")[1].ts - r429.of_type("attempt_started")[0].ts
    assert gap >= 0.9  # Retry-After: 1 was honoured
    assert r401.turn.status == "failed"
    assert r401.turn.error is not None and r401.turn.error.kind == "auth"
    assert not r401.turn.error.retryable
    assert len(r401.of_type("attempt_started")) == 1  # a bad key is not retried
    (failed,) = r401.of_type("turn_failed")
    assert failed.kind == "auth" and "API key" in failed.message
    assert r401.turn.user_text == "[demo tokens=4 fault=401]"  # the message is kept
    # What the provider said about the key (it could quote it) is in no failure recorded
    # in the workflow's history, the cause chain included.
    assert "Error code: 401" in history  # (decrypted: the history itself is ciphertext)
    assert "Incorrect API key" not in history


def test_unreachable_server_fails_plainly(backend: ServeProcess, settings_file: Path) -> None:
    Settings(provider="openai-compatible", base_url="http://127.0.0.1:9/v1").save(settings_file)
    rec = with_client(backend.data_dir, lambda c: record_turn(c, "hello"), timeout=120)
    assert rec.turn.status == "failed"
    assert rec.turn.error is not None and rec.turn.error.kind == "unreachable"
    assert "127.0.0.1:9" in rec.turn.error.message


def test_list_and_history_read_the_durable_state(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient):  # type: ignore[no-untyped-def]
        rec = await record_turn(client, "a conversation to find [demo tokens=2]")
        await client.rename(rec.conversation_id, "Found it")
        await asyncio.sleep(0.2)
        return rec.conversation_id, await client.list()

    cid, listing = with_client(backend.data_dir, scenario)
    assert listing[0].conversation_id == cid and listing[0].title == "Found it"


def test_every_history_replays_inside_the_sandbox(backend: ServeProcess) -> None:
    """The worker runs workflows outside Temporal's sandbox, for speed. The sandbox's
    check that workflow code stays deterministic (no clock, randomness, I/O or
    restricted module outside Temporal's APIs) runs here instead: every history of
    this backend is replayed inside it with the code as it is, among them one
    conversation with each kind of turn (tool call, Stop, failure, retry) that went
    on into a second run (continue-as-new)."""

    async def every_kind(client: DuraChatClient) -> list[TurnRecording]:
        client.limits = client.limits.model_copy(update={"max_events": 40})
        tool = await record_turn(client, "what is 6*7?")
        cid = tool.conversation_id
        stop = on_text_delta(5, lambda e: client.stop(e.conversation_id, e.turn_id))
        return [
            tool,
            await record_turn(client, "[demo tokens=400 tps=40]", cid, on_event=stop),
            await record_turn(client, "[demo tokens=4 fault=401]", cid),
            await record_turn(client, "[demo tokens=20 fault=drop@5x1]", cid),
            await record_turn(client, "[demo tokens=3]", cid),
        ]

    turns = with_client(backend.data_dir, every_kind, timeout=120)
    assert [r.turn.status for r in turns] == ["done", "stopped", "failed", "done", "done"]
    cid = turns[0].conversation_id

    async def both_runs_listed() -> None:
        # The listing is eventually consistent: wait for both runs of that conversation.
        client = await connect(backend.runtime()["temporal"])
        for _ in range(100):
            if len([w async for w in client.list_workflows(f'WorkflowId = "{cid}"')]) >= 2:
                return
            await asyncio.sleep(0.1)

    asyncio.run(both_runs_listed())
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.replay_in_sandbox", backend.runtime()["temporal"]],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    replayed = json.loads(done.stdout)
    assert replayed.count(cid) >= 2  # both runs of the conversation with every kind of turn
