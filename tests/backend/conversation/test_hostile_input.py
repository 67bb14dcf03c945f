"""Hostile and clumsy input leaves a conversation working.

Each test sends what a clumsy client, a bug or another user could: malformed
signals, a flood of huge renames, tool output and replies past Temporal's payload
limit, a conversation ended from outside. The conversation must answer the next
message, and ``history`` and ``list`` must keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.client.api import DuraChatClient
from backend.client.errors import MessageRejected, NoSuchConversation
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.models.streaming_model import MAX_REPLY_CHARS
from backend.temporal_connect import NAMESPACE, TASK_QUEUE
from backend.workflows.conversation_types import MAX_QUEUED, HistoryLimits, UserMessage
from backend.workflows.tool_budget import MODEL_BUDGET_BYTES
from tests.support.chat import (
    FILE_TOOLS_ALLOWED,
    on_text_delta,
    record_turn,
    with_client,
    workflow_runs,
)
from tests.support.history_text import decrypted_text
from tests.support.serve_process import ServeProcess, child_env, durachat_argv


def big_file_granted_text() -> str:
    return "0123456789abcdef\n" * 15_000


@pytest.fixture
def big_file_granted(settings_file: Path, tmp_path: Path) -> None:
    """The file tools may read ``big.txt``, 255 KB, in a folder of the test's own."""
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "big.txt").write_text(big_file_granted_text())
    Settings(granted_folder=str(granted), tool_policies=FILE_TOOLS_ALLOWED).save(settings_file)


async def stranger(address: str) -> Client:
    """A client without the user's key, as another local user has."""
    return await Client.connect(
        address, namespace=NAMESPACE, data_converter=pydantic_data_converter
    )


def words(n: int) -> str:
    return "".join(counted_tokens(n))


async def _still_answers(client: DuraChatClient, conversation_id: str) -> None:
    after = await record_turn(client, "[demo tokens=3]", conversation_id)
    assert after.turn.status == "done" and after.turn.reply == words(3)
    listed = {s.conversation_id: s for s in await client.list()}
    assert listed[conversation_id].error is None


def test_malformed_signals_are_dropped_and_the_conversation_goes_on(
    backend: ServeProcess,
) -> None:
    async def scenario(client: DuraChatClient) -> None:
        first = await record_turn(client, "[demo tokens=2]")
        cid = first.conversation_id
        handle = client.temporal.get_workflow_handle(cid)
        # Each is dropped by the workflow with a line in its log.
        await handle.signal("send", {"foo": 1})
        await handle.signal("send", {"message_id": "m-int", "text": 123})
        await handle.signal("send", {"message_id": "m-empty", "text": ""})
        await handle.signal("rename", 42)
        await handle.signal("rename", {"title": "a dict"})
        await handle.signal("stop", ["not", "an", "id"])
        await handle.signal("send", args=[{"message_id": "m2", "text": "x"}, "extra"])
        await handle.signal("no_such_signal", "hello")
        await _still_answers(client, cid)
        view = await client.history(cid)
        assert [t.user_text for t in view.turns] == ["[demo tokens=2]", "[demo tokens=3]"]
        assert view.title == "[demo tokens=2]"
        # A stop with no argument carries nothing encrypted: anyone could send it, so it
        # stops nothing.
        paced = await record_turn(
            client,
            "[demo tokens=20 tps=40]",
            cid,
            on_event=on_text_delta(2, lambda _e: handle.signal("stop")),
        )
        assert paced.turn.status == "done" and paced.turn.reply == words(20)

    with_client(backend.data_dir, scenario)


def test_a_rename_flood_is_refused_and_cannot_outgrow_the_history(
    backend: ServeProcess,
) -> None:
    async def scenario(client: DuraChatClient) -> None:
        # Small limits so a few signals stand for the 35 that killed a conversation.
        client.limits = HistoryLimits(max_bytes=2_500_000)
        first = await record_turn(client, "[demo tokens=2]")
        cid = first.conversation_id
        with pytest.raises(MessageRejected, match="limit is 200"):
            await client.rename(cid, "t" * 1_500_000)
        handle = client.temporal.get_workflow_handle(cid)
        for _ in range(4):  # recorded in the history, dropped by the workflow
            await handle.signal("rename", "t" * 1_000_000)
        await _still_answers(client, cid)
        view = await client.history(cid)
        assert view.title == "[demo tokens=2]"
        # Continued as new while idle, not terminated by Temporal.
        assert await workflow_runs(client, cid, at_least=2) >= 2
        await client.rename(cid, "A fine title")
        assert (await client.history(cid)).title == "A fine title"

    with_client(backend.data_dir, scenario)


def test_tool_output_over_the_payload_limit_ends_cleanly(
    backend: ServeProcess, big_file_granted: None
) -> None:
    reads = " ".join('tool=read_file:{"path": "big.txt"}' for _ in range(9))

    async def scenario(client: DuraChatClient) -> None:
        rec = await record_turn(client, f"[demo {reads}]")
        # 2.3 MB of tool output in one turn, past Temporal's 2 MB payload limit. The
        # demo model quotes every tool output it received back, which is more than a
        # reply may hold: the reply is cut off and kept.
        assert rec.turn.status == "failed"
        assert rec.turn.error is not None and rec.turn.error.kind == "reply_limit"
        assert rec.turn.reply.startswith("The `read_file` tool")
        assert len(rec.turn.tool_calls) == 9
        assert all(c.status == "done" for c in rec.turn.tool_calls)
        # Each output went to the conversation store whole (by its hash); the record
        # the workflow carried kept its start.
        whole = (big_file_granted_text()).encode()
        for call in rec.turn.tool_calls:
            assert call.output_blob and call.output_bytes == len(whole)
            assert "is kept in the conversation store" in (call.output or "")
            assert len(call.output or "") < 20_000
            assert client.store.get_blob(call.output_blob) == whole
        exported = client.store.export_conversation(rec.conversation_id)
        assert exported.turns[0].tool_calls[-1].output == whole.decode()
        # Each model call ran once: nothing was retried for being too large.
        assert [e.call for e in rec.of_type("attempt_started")] == [0, 1]
        # The model was told what it did not get (its input is in the history).
        history = await client.temporal.get_workflow_handle(rec.conversation_id).fetch_history()
        decrypted_text(history)  # decrypts the events in place
        model_inputs = [
            e.activity_task_scheduled_event_attributes.input.payloads[0].data
            for e in history.events
            if e.activity_task_scheduled_event_attributes.activity_type.name.startswith(
                "invoke_model"
            )
        ]
        assert len(model_inputs) == 2
        assert model_inputs[1].decode().count("DuraChat cut this tool output here") == 8
        assert len(model_inputs[1]) < MODEL_BUDGET_BYTES + 100_000
        listed = {s.conversation_id for s in await client.list()}
        assert rec.conversation_id in listed

    with_client(backend.data_dir, scenario, timeout=180)


def test_a_runaway_reply_is_cut_off_once_and_kept(
    backend: ServeProcess, settings_file: Path
) -> None:
    async def scenario(client: DuraChatClient) -> None:
        rec = await record_turn(client, "[demo tokens=100000]")
        assert rec.turn.status == "failed"
        assert rec.turn.error is not None and rec.turn.error.kind == "reply_limit"
        assert "200,000 characters" in rec.turn.error.message
        assert len(rec.of_type("attempt_started")) == 1  # a runaway is not paid for twice
        assert rec.turn.reply.startswith(words(50))  # what it said is kept
        assert MAX_REPLY_CHARS - 20 <= len(rec.turn.reply) <= MAX_REPLY_CHARS + 20
        await _still_answers(client, rec.conversation_id)

        Settings(max_reply_s=1).save(settings_file)
        slow = await record_turn(client, "[demo tokens=200 tps=20]")
        assert slow.turn.status == "failed"
        assert slow.turn.error is not None and slow.turn.error.kind == "reply_limit"
        assert "max_reply_s" in slow.turn.error.message
        assert len(slow.of_type("attempt_started")) == 1
        assert slow.turn.reply.startswith("w1 ")

    with_client(backend.data_dir, scenario, timeout=180)


def test_a_conversation_ended_from_outside_stays_listed_and_goes_on(
    backend: ServeProcess,
) -> None:
    async def scenario(client: DuraChatClient) -> None:
        first = await record_turn(client, "remember the word pelican [demo tokens=2]")
        cid = first.conversation_id
        # What Temporal does when a history passes its limits, or a user does by hand.
        await client.temporal.get_workflow_handle(cid).terminate("history too large")
        # Someone without the key then starts runs of their own under that id: one ends
        # at once (its input is not DuraChat's), one never starts and is terminated.
        other = await stranger(backend.ready["temporal"])
        await other.start_workflow(
            "Conversation", {"conversation_id": cid}, id=cid, task_queue=TASK_QUEUE
        )
        await client.temporal.get_workflow_handle(cid).result()
        # A client that never saw the conversation (a restarted window) finds it.
        fresh = await DuraChatClient.connect(DataDir(backend.data_dir))
        try:
            listed = {s.conversation_id: s for s in await fresh.list("pelican")}
            assert listed[cid].error is None and "pelican" in listed[cid].title
            assert (await fresh.history(cid)).turns[0].reply == words(2)
            # The store holds it whatever became of its runs (the dev server deletes
            # ended runs a day later): the next message starts a run from there.
        finally:
            await fresh.close()
        delayed = await other.start_workflow(
            "Conversation",
            {"conversation_id": cid},
            id=cid,
            task_queue=TASK_QUEUE,
            start_delay=timedelta(hours=1),
        )
        await delayed.terminate("and gone")
        fresh = await DuraChatClient.connect(DataDir(backend.data_dir))
        try:
            second = await record_turn(fresh, "[demo tokens=3]", cid)
        finally:
            await fresh.close()
        assert second.view is not None
        assert [t.user_text for t in second.view.turns] == [
            "remember the word pelican [demo tokens=2]",
            "[demo tokens=3]",
        ]
        # Deleting it removes every run: it does not come back in a later list.
        await client.delete(cid)
        fresh = await DuraChatClient.connect(DataDir(backend.data_dir))
        try:
            deadline = asyncio.get_running_loop().time() + 10
            while cid in {s.conversation_id for s in await fresh.list()}:
                assert asyncio.get_running_loop().time() < deadline, "deleted, still listed"
                await asyncio.sleep(0.2)
        finally:
            await fresh.close()

    with_client(backend.data_dir, scenario)


def test_input_that_is_not_durachats_starts_nothing_and_reads_as_one_line(
    backend: ServeProcess,
) -> None:
    address = backend.ready["temporal"]
    cid = f"conversation-{uuid.uuid4()}"

    async def scenario(client: DuraChatClient) -> None:
        other = await stranger(address)
        await other.start_workflow(
            "Conversation",
            {"conversation_id": cid},
            id=cid,
            task_queue=TASK_QUEUE,
            start_signal="send",
            start_signal_args=[{"message_id": "m1", "text": "[demo tokens=2]"}],
        )
        # The run ends at once (its input was not encrypted), with an encrypted result.
        await client.temporal.get_workflow_handle(cid).result()
        # Nothing of it reached the store: it is no conversation of the user's.
        with pytest.raises(NoSuchConversation):
            await client.history(cid)
        with pytest.raises(NoSuchConversation):
            await client.send("hi", f"conversation-{uuid.uuid4()}", must_exist=True)
        assert cid not in {s.conversation_id for s in await client.list()}

    with_client(backend.data_dir, scenario)
    d = ["--data-dir", str(backend.data_dir)]
    for argv in (["history", *d, "--conversation", cid], ["send", *d, "--conversation", "x", "hi"]):
        done = subprocess.run(
            [*durachat_argv(), *argv], capture_output=True, text=True, timeout=60, env=child_env()
        )
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("durachat: "), done.stderr
        assert "Traceback" not in done.stderr
    listing = subprocess.run(
        [*durachat_argv(), "list", *d, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    assert listing.returncode == 0, listing.stderr
    assert "x" not in {c["conversation_id"] for c in json.loads(listing.stdout)}


def test_a_flood_of_queued_messages_is_capped(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient) -> None:
        sent = await client.send("[demo tokens=40 tps=10]")  # four seconds of reply
        cid = sent.conversation_id
        first = client.follow_turn(cid, sent.message_id, sent.stream_after)
        async with contextlib.aclosing(first) as events:
            async for event in events:
                if getattr(event, "type", None) == "text_delta":
                    break  # the first turn runs: every message from here on waits
        handle = client.temporal.get_workflow_handle(cid)
        flood = [
            UserMessage(message_id=f"flood-{i}", text="[demo tokens=1]")
            for i in range(MAX_QUEUED + 5)
        ]
        await asyncio.gather(*(handle.signal("send", m) for m in flood))
        await client.stop(cid)
        deadline = asyncio.get_running_loop().time() + 90
        while True:
            # Signalled past the client, those turns reach the store as they end.
            view = await client.history(cid)
            if len(view.turns) >= 1 + MAX_QUEUED and all(
                t.status in ("done", "stopped") for t in view.turns
            ):
                break
            assert asyncio.get_running_loop().time() < deadline, "queue not drained"
            await asyncio.sleep(0.2)
        assert len(view.turns) == 1 + MAX_QUEUED  # the first turn, then what fit the queue
        await _still_answers(client, cid)

    with_client(backend.data_dir, scenario, timeout=150)
    log = (backend.data_dir / "logs" / "worker.log").read_text()
    assert f"{MAX_QUEUED} messages are already waiting" in log


def test_a_conversation_heavy_with_tool_output_still_continues_as_new(
    backend: ServeProcess, big_file_granted: None
) -> None:
    reads = " ".join('tool=read_file:{"path": "big.txt"}' for _ in range(3))

    async def scenario(client: DuraChatClient) -> None:
        client.limits = HistoryLimits(max_events=1)  # continue as new after every turn
        first = await record_turn(client, f"[demo {reads}]")
        cid = first.conversation_id
        # Over a megabyte of tool output and quotes each: after the second, the state to
        # carry is past Temporal's payload limit unless it is fitted.
        await record_turn(client, f"[demo {reads}]", cid)
        assert await workflow_runs(client, cid, at_least=3) >= 3, "did not continue as new"
        view = await client.history(cid)
        assert [t.user_text for t in view.turns] == [f"[demo {reads}]"] * 2
        assert all(t.status in ("done", "failed") for t in view.turns)
        assert all(len(t.tool_calls) == 3 for t in view.turns)
        listed = {s.conversation_id: s for s in await client.list()}
        assert listed[cid].error is None

    with_client(backend.data_dir, scenario, timeout=180)
