"""Tool calls under ``ask``: the turn waits for the user, through the CLI's contract,
a SIGKILL of the whole backend, Allow, Deny (the model is told), Stop, and updates
that name no waiting call.

The test MCP server's ``append_line`` changes a file, so its default policy is
``ask``; each test appends its own text and counts it, so nothing may run twice.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from backend.client.api import DuraChatClient
from backend.client.errors import ApprovalNotPending
from backend.temporal_connect import connect
from tests.support.chat import with_client
from tests.support.mcp_setup import (
    cli,
    cli_json,
    kill_everything,
    send_process,
    stdio_server,
    write_mcp_json,
)
from tests.support.serve_process import ServeProcess, wait_until


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    path = tmp_path / "marks"
    path.mkdir()
    return path


@pytest.fixture
def ask_backend(data_dir: Path, marks: Path) -> Iterator[ServeProcess]:
    write_mcp_json(data_dir, {"files": stdio_server(marks)})
    sp = ServeProcess(data_dir, args=["--demo-tokens-per-second", "0"])
    sp.start()
    yield sp
    sp.close()


def appended(marks: Path) -> list[str]:
    path = marks / "appended.txt"
    return path.read_text().splitlines() if path.exists() else []


def wait_for_approval(data_dir: Path, count: int = 1) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def listed() -> bool:
        found[:] = cli_json(data_dir, "approvals")
        return len(found) >= count

    wait_until(listed, 60, interval=0.2, what="the call to wait for approval")
    return found


def read_until(proc: subprocess.Popen[str], needle: str) -> str:
    """stderr of a running ``send`` up to the line holding ``needle``."""
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"send ended without {needle!r}:\n{seen}")


def test_a_waiting_call_survives_a_sigkill_of_everything_and_runs_once_approved(
    ask_backend: ServeProcess, marks: Path
) -> None:
    proc = send_process(ask_backend.data_dir, 'note [demo tool=append_line:{"text": "kept"}]')
    said = read_until(proc, "waiting for your approval")
    (pending,) = wait_for_approval(ask_backend.data_dir)
    assert pending["call_id"] in said and "durachat approve" in said
    assert pending["tool"] == "append_line"
    assert json.loads(pending["arguments"]) == {"text": "kept"}
    assert pending["conversation_id"].startswith("conversation-")
    assert pending["requested_at"] > 0
    assert appended(marks) == []  # nothing runs before the user says so

    kill_everything(ask_backend)
    proc.kill()
    proc.wait(10)
    ask_backend.start()
    assert [p["call_id"] for p in cli_json(ask_backend.data_dir, "approvals")] == [
        pending["call_id"]
    ]
    result = cli(ask_backend.data_dir, "approve", pending["call_id"])
    assert result.returncode == 0, result.stderr

    def finished() -> bool:
        view = with_client(ask_backend.data_dir, lambda c: c.history(pending["conversation_id"]))
        return view.turns[-1].status == "done"

    wait_until(finished, 60, interval=0.2, what="the reply after approval")
    view = with_client(ask_backend.data_dir, lambda c: c.history(pending["conversation_id"]))
    (call,) = view.turns[-1].tool_calls
    assert (call.status, call.output, call.server) == ("done", "appended (1 lines)", "files")
    assert "appended (1 lines)" in view.turns[-1].reply
    assert appended(marks) == ["kept"]
    assert cli_json(ask_backend.data_dir, "approvals") == []


def test_deny_tells_the_model_and_the_turn_goes_on(ask_backend: ServeProcess, marks: Path) -> None:
    proc = send_process(
        ask_backend.data_dir, 'note [demo tool=append_line:{"text": "refused"}]', "--json"
    )
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["type"] == "approval_requested":
            break
    requested = events[-1]
    assert requested["type"] == "approval_requested", events
    assert requested["name"] == "append_line" and requested["server"] == "files"
    result = cli(ask_backend.data_dir, "deny", requested["call_id"], "--reason", "not in this file")
    assert result.returncode == 0, result.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    final = json.loads(out.splitlines()[-1])
    assert final["status"] == "done"
    assert "denied" in final["reply"] and "not in this file" in final["reply"]
    view = with_client(ask_backend.data_dir, lambda c: c.history(final["conversation_id"]))
    (call,) = view.turns[-1].tool_calls
    assert call.status == "denied" and call.error == "denied by the user: not in this file"
    assert appended(marks) == []


def test_stop_ends_the_wait_and_always_allow_stops_asking(
    ask_backend: ServeProcess, marks: Path
) -> None:
    async def stop_while_waiting(client: DuraChatClient) -> tuple[str, str]:
        sent = await client.send('note [demo tool=append_line:{"text": "stopped"}]')
        async for item in client.follow_turn(sent.conversation_id, sent.message_id):
            if getattr(item, "type", None) == "approval_requested":
                await client.stop(sent.conversation_id, sent.message_id)
            elif not hasattr(item, "type"):
                return sent.conversation_id, item.turns[-1].status
        raise AssertionError("the turn never ended")

    conversation_id, status = with_client(ask_backend.data_dir, stop_while_waiting)
    assert status == "stopped"
    view = with_client(ask_backend.data_dir, lambda c: c.history(conversation_id))
    (call,) = view.turns[-1].tool_calls
    assert (call.status, call.error) == ("error", "stopped")
    assert cli_json(ask_backend.data_dir, "approvals") == []
    late = cli(ask_backend.data_dir, "approve", "call_that_waits_no_more")
    assert late.returncode == 1
    assert (
        late.stderr.strip() == "durachat: no tool call call_that_waits_no_more waits for approval"
    )

    # Always allow: this call runs, and the next one does not ask.
    proc = send_process(
        ask_backend.data_dir,
        'note [demo tool=append_line:{"text": "always"}]',
        "--conversation",
        conversation_id,
    )
    (pending,) = wait_for_approval(ask_backend.data_dir)
    assert cli(ask_backend.data_dir, "approve", pending["call_id"], "--always").returncode == 0
    assert proc.wait(60) == 0
    tools = {t["name"]: t["policy"] for t in cli_json(ask_backend.data_dir, "tools")}
    assert tools["append_line"] == "allow"
    proc = send_process(ask_backend.data_dir, 'again [demo tool=append_line:{"text": "free"}]')
    assert proc.wait(60) == 0
    assert appended(marks) == ["always", "free"]


def test_a_decision_naming_no_waiting_call_is_refused_and_the_wait_goes_on(
    ask_backend: ServeProcess, marks: Path
) -> None:
    proc = send_process(ask_backend.data_dir, 'note [demo tool=append_line:{"text": "later"}]')
    (pending,) = wait_for_approval(ask_backend.data_dir)

    async def bad_updates(client: DuraChatClient) -> list[str]:
        temporal = await connect(client.info.temporal)
        handle = temporal.get_workflow_handle(pending["conversation_id"])
        refused = []
        for payload in ({"call_id": "nope", "allow": True}, {"call_id": 5}, "junk"):
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await handle.execute_update("decide", payload)
            refused.append(str(caught.value.cause))
        with pytest.raises(ApprovalNotPending):
            await client.decide("nope", allow=True)
        return refused

    refused = with_client(ask_backend.data_dir, bad_updates)
    assert "no tool call nope waits for approval" in refused[0]
    assert all(r for r in refused)
    assert [p["call_id"] for p in cli_json(ask_backend.data_dir, "approvals")] == [
        pending["call_id"]
    ]
    assert cli(ask_backend.data_dir, "approve", pending["call_id"]).returncode == 0
    assert proc.wait(60) == 0
    assert appended(marks) == ["later"]


def test_approving_with_no_backend_running_starts_one_until_the_reply_ends(
    ask_backend: ServeProcess, marks: Path
) -> None:
    proc = send_process(ask_backend.data_dir, 'note [demo tool=append_line:{"text": "cold"}]')
    (pending,) = wait_for_approval(ask_backend.data_dir)
    assert ask_backend.terminate() == 0  # the user quit DuraChat; the call still waits
    proc.kill()
    proc.wait(10)
    result = cli(ask_backend.data_dir, "approve", pending["call_id"])
    assert result.returncode == 0, result.stderr
    view = with_client_offline(ask_backend.data_dir, pending["conversation_id"])
    assert view.turns[-1].status == "done"
    assert "appended (1 lines)" in view.turns[-1].reply
    assert appended(marks) == ["cold"]


def with_client_offline(data_dir: Path, conversation_id: str):  # type: ignore[no-untyped-def]
    """The history from the store, with no backend running."""
    from backend.client.api import read_history
    from backend.client.store import ConversationStore

    with ConversationStore.in_data_dir(data_dir) as store:
        return read_history(store, conversation_id)
