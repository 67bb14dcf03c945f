"""The conversation store keeps every turn once, whatever happens to the worker.

Real Temporal, real Redis, the demo model over HTTP (the module's ``backend``), and
the store in its data dir read the way the window and the CLI read it. The worker is
SIGKILLed (the supervisor brings it back), the workflow is made to replay, a
conversation grows to 1,500 turns of about 2 KB each: each time the store holds
each message once, in order, with the reply the user saw stream.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
from temporalio.testing import ActivityEnvironment

from backend.client.api import DuraChatClient
from backend.client.store import ConversationStore
from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from backend.local.settings import Settings
from backend.stream.redis_stream import EventPublisher, EventReader
from backend.workflows.conversation_types import (
    DEFAULT_CONTEXT_TOKENS,
    ConversationState,
    ConversationView,
    ToolCallRecord,
    Turn,
)
from backend.workflows.turn_activities import EndTurn, RecordTurns, TurnActivities, TurnRecord
from tests.support.chat import TurnRecording, on_text_delta, record_turn, with_client
from tests.support.serve_process import ServeProcess, child_env, durachat_argv, wait_until


def words(n: int) -> str:
    return "".join(counted_tokens(n))


def store_history(data_dir: Path, conversation_id: str) -> ConversationView:
    """The conversation as the window and ``durachat history`` read it: from the store."""
    with ConversationStore.in_data_dir(data_dir) as store:
        return store.history(conversation_id)


async def workflow_state(client: DuraChatClient, conversation_id: str) -> ConversationState:
    handle = client.temporal.get_workflow_handle(conversation_id)
    state = await handle.query("state", result_type=ConversationState)
    assert state is not None
    return state


def worker_process(backend: ServeProcess) -> psutil.Process | None:
    """The worker: the child of ``durachat serve`` running ``python -m backend.worker``."""
    for proc in psutil.Process(backend.pid).children(recursive=True):
        try:
            if "backend.worker" in proc.cmdline() and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except psutil.Error:
            continue
    return None


def kill_worker(backend: ServeProcess) -> int:
    """SIGKILL the worker; its pid."""
    worker = worker_process(backend)
    assert worker is not None, "no worker process under serve"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    return worker.pid


def wait_for_new_worker(backend: ServeProcess, killed: int) -> int:
    def restarted() -> int | None:
        worker = worker_process(backend)
        return worker.pid if worker is not None and worker.pid != killed else None

    return wait_until(restarted, timeout=60, what="the supervisor to restart the worker")


def assert_stored_once_in_order(view: ConversationView, recordings: list[TurnRecording]) -> None:
    """Every message sent is one turn of the store's history, in the order sent, done,
    with the reply the user saw stream (rebuilt from the live events)."""
    assert [t.turn_id for t in view.turns] == [r.turn_id for r in recordings]
    for turn, rec in zip(view.turns, recordings, strict=True):
        assert turn.status == "done", (turn.turn_id, turn.status, turn.error)
        assert turn.reply == rec.rebuilt().text, turn.turn_id
        assert turn.reply == rec.turn.reply, turn.turn_id


# -- (a) a finished turn: in the store once, out of the workflow's state ------------------


def test_a_finished_turn_is_stored_once_and_leaves_the_workflow_state(
    backend: ServeProcess,
) -> None:
    async def chat(client: DuraChatClient) -> tuple[list[TurnRecording], ConversationState]:
        first = await record_turn(client, "First of three [demo tokens=12]")
        cid = first.conversation_id
        tool = await record_turn(
            client, 'Now a tool [demo tool=calculator:{"expression": "6*7"}]', cid
        )
        third = await record_turn(client, "Third and last [demo tokens=30]", cid)
        return [first, tool, third], await workflow_state(client, cid)

    recordings, state = with_client(backend.data_dir, chat)
    cid = recordings[0].conversation_id

    view = store_history(backend.data_dir, cid)
    assert_stored_once_in_order(view, recordings)
    assert view.turns[0].reply == words(12) and view.turns[2].reply == words(30)
    (call,) = view.turns[1].tool_calls  # the tool call once, with its result
    assert (call.name, call.status, call.output) == ("calculator", "done", "42")
    assert "42" in view.turns[1].reply
    # The list says it once, finished, with all three turns.
    with ConversationStore.in_data_dir(backend.data_dir) as store:
        (record,) = [r for r in store.list_conversations() if r.conversation_id == cid]
    assert (record.turn_count, record.running) == (3, False)

    # The workflow let go of the finished turns: it keeps their ids (a resent message
    # is known) and the model's context, not the turns.
    assert state.turns == []
    assert [r.turn_id for r in recordings] == state.recent_ids[-3:]
    assert [c.turn_id for c in state.context] == [r.turn_id for r in recordings]


# -- (b) the list right after a worker SIGKILL ---------------------------------------------


def test_the_list_is_complete_right_after_a_worker_sigkill(backend: ServeProcess) -> None:
    """30 conversations, five with a reply still streaming; SIGKILL the worker and list
    at once: all 30 are there. A new message is answered once the worker is back, and
    the replies cut off by the kill finish, each stored once."""
    tag = f"crashlist{time.time_ns()}"

    async def scenario(client: DuraChatClient) -> dict:
        finished = await asyncio.gather(
            *(record_turn(client, f"{tag} finished {i:02d} [demo tokens=5]") for i in range(25))
        )
        streaming_started = [asyncio.Event() for _ in range(5)]

        def started(i: int):
            return on_text_delta(1, lambda _e: streaming_started[i].set())

        in_flight = [
            asyncio.ensure_future(
                record_turn(
                    client, f"{tag} streaming {i:02d} [demo tokens=60 tps=15]", on_event=started(i)
                )
            )
            for i in range(5)
        ]
        await asyncio.gather(*(e.wait() for e in streaming_started))

        killed = kill_worker(backend)
        listed = await client.list()  # at once
        cli = await asyncio.to_thread(
            subprocess.run,
            [*durachat_argv(), "list", "--data-dir", str(backend.data_dir), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env(),
        )
        searched = await client.list(search=tag)

        # A new message in one of them, sent while the worker is still down.
        again = await record_turn(
            client, f"{tag} after the crash [demo tokens=7]", finished[3].conversation_id
        )
        streamed = await asyncio.gather(*in_flight)
        return {
            "finished": finished,
            "streamed": streamed,
            "killed": killed,
            "listed": listed,
            "cli": cli,
            "searched": searched,
            "again": again,
        }

    out = with_client(backend.data_dir, scenario, timeout=240)
    finished: list[TurnRecording] = out["finished"]
    streamed: list[TurnRecording] = out["streamed"]
    expected = {r.conversation_id for r in finished + streamed}
    assert len(expected) == 30

    # Complete at the first call, from the client API and from the CLI.
    listed = {c.conversation_id: c for c in out["listed"]}
    assert expected <= set(listed)
    assert all(listed[r.conversation_id].running for r in streamed)
    assert not any(listed[r.conversation_id].running for r in finished)
    assert {c.conversation_id for c in out["searched"]} == expected
    cli = out["cli"]
    assert cli.returncode == 0, cli.stderr
    rows = {c["conversation_id"]: c for c in json.loads(cli.stdout)}
    assert expected <= set(rows)
    assert [rows[r.conversation_id]["running"] for r in streamed] == [True] * 5
    assert [rows[r.conversation_id]["running"] for r in finished] == [False] * 25

    wait_for_new_worker(backend, out["killed"])
    # The new message got its reply, after the turn from before the crash.
    again: TurnRecording = out["again"]
    assert again.turn.status == "done" and again.turn.reply == words(7)
    view = store_history(backend.data_dir, again.conversation_id)
    assert_stored_once_in_order(view, [finished[3], again])
    # The replies the kill cut off finished, each once, whole.
    for rec in streamed:
        view = store_history(backend.data_dir, rec.conversation_id)
        assert_stored_once_in_order(view, [rec])
        assert view.turns[0].reply == words(60)


# -- (c) 1,500 turns of about 2 KB each -----------------------------------------------------

LONG_TURNS = 1_500
HALF_TURN_CHARS = 1_000  # a message and a reply of about 1 KB each: 2 KB a turn


def _filler(i: int, who: str) -> str:
    line = f"{who} {i}: the quick brown fox jumps over the lazy dog, again and again. "
    return (line * (HALF_TURN_CHARS // len(line) + 1))[:HALF_TURN_CHARS]


def _stored_long_conversation(conversation_id: str, turns: int) -> ExportedConversation:
    start = time.time() - turns * 60
    return ExportedConversation(
        conversation_id=conversation_id,
        title="A conversation of 1,500 turns",
        created_at=start,
        updated_at=start + turns * 60,
        turns=[
            ExportedTurn(
                turn_id=f"msg-long-{i:05d}",
                user_text=_filler(i, "question"),
                status="done",
                reply=_filler(i, "answer"),
                queued_at=start + i * 60,
                started_at=start + i * 60,
                ended_at=start + i * 60 + 5,
            )
            for i in range(1, turns + 1)
        ],
    )


def test_a_conversation_of_1500_turns_of_2_kb_keeps_going(backend: ServeProcess) -> None:
    """1,499 finished turns are written straight into the store (building them through
    the workflow would take minutes); turns 1,500 and 1,501 go through the real client
    and workflow. The replies come, the history holds every turn, each workflow run
    stays small, and the model is sent a bounded context of the newest turns."""
    cid = f"conversation-long-{time.time_ns()}"
    stored = _stored_long_conversation(cid, LONG_TURNS - 1)
    with ConversationStore.in_data_dir(backend.data_dir) as store:
        store.bulk_import([stored])
    text_bytes = sum(len(t.user_text) + len(t.reply) for t in stored.turns)
    assert text_bytes > 2_900_000  # about 3 MB of text

    def message(n: int) -> str:
        return _filler(n, "question") + " [demo tokens=250]"

    async def chat(client: DuraChatClient) -> dict:
        turn_1500 = await record_turn(client, message(1_500), cid)
        after_1500 = store_history(backend.data_dir, cid)
        turn_1501 = await record_turn(client, message(1_501), cid)
        handle = client.temporal.get_workflow_handle(cid)
        description = await handle.describe()
        started = None
        async for event in handle.fetch_history_events():
            started = event.workflow_execution_started_event_attributes
            break
        return {
            "turns": [turn_1500, turn_1501],
            "after_1500": after_1500,
            "history_bytes": description.raw_info.history_size_bytes,
            "start_input_bytes": sum(len(p.data) for p in started.input.payloads),
            "state_bytes": len((await workflow_state(client, cid)).model_dump_json()),
        }

    out = with_client(backend.data_dir, chat, timeout=180)
    turn_1500, turn_1501 = out["turns"]
    for rec in (turn_1500, turn_1501):
        assert rec.turn.status == "done", rec.turn.error
        assert rec.turn.reply == words(250) == rec.rebuilt().text

    view = store_history(backend.data_dir, cid)
    assert len(view.turns) == LONG_TURNS + 1
    assert [t.turn_id for t in view.turns[: LONG_TURNS - 1]] == [t.turn_id for t in stored.turns]
    assert view.turns[-2].turn_id == turn_1500.turn_id
    assert view.turns[-1].turn_id == turn_1501.turn_id
    assert view.turns[0].user_text == stored.turns[0].user_text  # nothing old was cut
    assert view.turns[LONG_TURNS - 2].reply == stored.turns[-1].reply

    # Each workflow run stays far below Temporal's limits, whatever the conversation's
    # length: its start input and state are the model's bounded context, no more.
    assert out["history_bytes"] < 5_000_000, out["history_bytes"]
    assert out["start_input_bytes"] < 1_000_000, out["start_input_bytes"]
    assert out["state_bytes"] < 1_000_000, out["state_bytes"]

    # The model was sent the newest turns within the budget, not the 3 MB (the demo
    # model counts about four characters a token of what it was sent), and the window
    # marks where that context began: at one of the stored turns, not the first.
    stored_ids = [t.turn_id for t in stored.turns]
    budget = DEFAULT_CONTEXT_TOKENS
    sent_1500, sent_1501 = turn_1500.turn.input_tokens, turn_1501.turn.input_tokens
    assert budget // 2 < sent_1500 < budget + 5_000, sent_1500
    starts_1500 = out["after_1500"].context_starts_at
    assert starts_1500 in stored_ids[1:], (
        f"turn 1,500 was sent {sent_1500} tokens of context, but the history says the "
        f"model's context starts at {starts_1500} (turn 1,500 is {turn_1500.turn_id})"
    )
    # ... and at the turn after it again: the newest turns within the budget, not the
    # last turn alone.
    assert budget // 2 < sent_1501 < budget + 5_000, (
        f"turn 1,501 was sent {sent_1501} tokens (turn 1,500: {sent_1500}); the model's "
        f"context now starts at {view.context_starts_at} (turn 1,500 is {turn_1500.turn_id})"
    )
    assert view.context_starts_at in stored_ids[1:], view.context_starts_at


# -- (d) idempotent writes under replay and retry ------------------------------------------


def test_a_replayed_workflow_writes_nothing_twice(backend: ServeProcess) -> None:
    """A few turns, then the worker is SIGKILLed: the new worker replays the workflow
    (its cache died with the old one) to answer the next message, and a reply cut off
    mid-stream by a second kill is retried. The store still has each turn once, in
    order, and the workflow agrees."""

    async def before(client: DuraChatClient) -> list[TurnRecording]:
        first = await record_turn(client, "Replay me, one [demo tokens=6]")
        cid = first.conversation_id
        rest = [
            await record_turn(client, "two [demo tokens=8]", cid),
            await record_turn(client, 'three [demo tool=calculator:{"expression": "2+3"}]', cid),
        ]
        return [first, *rest]

    recordings = with_client(backend.data_dir, before)
    cid = recordings[0].conversation_id
    wait_for_new_worker(backend, kill_worker(backend))

    async def after(client: DuraChatClient) -> tuple[list[TurnRecording], ConversationState]:
        replayed = await record_turn(client, "four, after the replay [demo tokens=9]", cid)
        # Killed mid-reply: the model call is retried by the next worker, which replays.
        cut = await record_turn(
            client,
            "five, cut off [demo tokens=40 tps=20]",
            cid,
            on_event=on_text_delta(5, lambda _e: killed.append(kill_worker(backend))),
        )
        return [replayed, cut], await workflow_state(client, cid)

    killed: list[int] = []
    later, state = with_client(backend.data_dir, after, timeout=180)
    wait_for_new_worker(backend, killed[0])

    view = store_history(backend.data_dir, cid)
    assert_stored_once_in_order(view, [*recordings, *later])
    assert view.turns[-1].reply == words(40)
    assert [len(t.tool_calls) for t in view.turns] == [0, 0, 1, 0, 0]
    assert state.turns == []
    assert state.recent_ids[-5:] == [t.turn_id for t in view.turns]


def test_the_end_turn_activity_twice_writes_the_turn_once(
    backend: ServeProcess, tmp_path: Path
) -> None:
    """The activity's write, run twice (a retry after its result was lost) and then
    once more with an older state of the turn (a late replayed write): one turn, done."""
    info = RuntimeInfo.read(DataDir(backend.data_dir).runtime_file)
    assert info is not None
    cid = f"conversation-direct-{time.time_ns()}"
    turn = Turn(
        turn_id="msg-direct-1",
        user_text="what is 6*7?",
        status="done",
        reply="It is 42.",
        tool_calls=[
            ToolCallRecord(
                call_id="call-1",
                name="calculator",
                arguments='{"expression": "6*7"}',
                status="done",
                output="42",
                attempts=1,
            )
        ],
        queued_at=1.0,
        started_at=2.0,
        ended_at=3.0,
    )
    items = [{"role": "user", "content": turn.user_text}]
    end = EndTurn(record=TurnRecord(conversation_id=cid, turn=turn, items=items))
    running = turn.model_copy(update={"status": "running", "reply": "It", "ended_at": None})

    async def run_twice() -> list[str]:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(info.redis_url())
        store = ConversationStore.in_data_dir(tmp_path)
        publisher = EventPublisher(redis)
        acts = TurnActivities(publisher, EventReader(redis), store, Settings)
        env = ActivityEnvironment()
        try:
            replies = [await env.run(acts.end_turn, end) for _ in range(2)]
            carried = RecordTurns(conversation_id=cid, created_at=1.0, turns=[running, turn])
            await env.run(acts.record_turns, carried)
            await env.run(acts.record_turns, carried)
            return replies
        finally:
            await publisher.close()
            await redis.aclose()
            store.close()

    assert asyncio.run(run_twice()) == ["It is 42.", "It is 42."]
    view = store_history(tmp_path, cid)
    (stored,) = view.turns
    assert (stored.turn_id, stored.status, stored.reply) == ("msg-direct-1", "done", "It is 42.")
    (call,) = stored.tool_calls
    assert (call.call_id, call.output) == ("call-1", "42")
    with ConversationStore.in_data_dir(tmp_path) as store:
        (record,) = store.list_conversations()
    assert (record.conversation_id, record.turn_count, record.running) == (cid, 1, False)
