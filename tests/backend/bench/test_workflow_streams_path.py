"""The bench's Workflow Streams path against a real backend and its own worker process."""

from __future__ import annotations

import asyncio
import json
import selectors
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus

from backend.bench.workflow_streams import subscriber, workflow
from backend.demo_model.script import counted_tokens
from backend.temporal_connect import connect
from tests.support.serve_process import REPO_ROOT, ServeProcess, child_env

READY_TIMEOUT_S = 60
PROMPT = "[demo tokens=30]"


def start_worker(
    temporal: str, model_base_url: str, task_queue: str, stderr: Path
) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "backend.bench.workflow_streams.worker",
        "--temporal", temporal, "--task-queue", task_queue, "--model-base-url", model_base_url,
    ]  # fmt: skip
    with stderr.open("w") as err:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=child_env(),
            cwd=REPO_ROOT,
        )
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(READY_TIMEOUT_S):
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"worker not ready in {READY_TIMEOUT_S} s:\n{stderr.read_text()}")
    line = proc.stdout.readline()
    assert json.loads(line) == {"event": "ready"}, f"{line!r}\n{stderr.read_text()}"
    return proc


async def converse(
    temporal: str, task_queue: str
) -> tuple[list[list[str]], WorkflowExecutionStatus | None]:
    client = await connect(temporal)
    workflow_id = f"test-streams-{uuid.uuid4()}"
    await subscriber.start_conversation(client, workflow_id, task_queue)
    replies: list[list[str]] = []
    for _ in range(2):
        deltas: list[str] = []
        await subscriber.ask_and_follow(client, workflow_id, PROMPT, deltas.append)
        replies.append(deltas)
    await subscriber.finish(client, workflow_id)
    status = (await client.get_workflow_handle(workflow_id).describe()).status
    return replies, status


def test_subscriber_names_match_the_workflow() -> None:
    assert subscriber.WORKFLOW_NAME == workflow.WORKFLOW_NAME
    assert subscriber.TOPIC == workflow.TOPIC
    assert subscriber.ASK_SIGNAL == workflow.ASK_SIGNAL
    assert subscriber.FINISH_SIGNAL == workflow.FINISH_SIGNAL


def test_replies_stream_in_order_and_the_worker_stops_cleanly(
    backend: ServeProcess, tmp_path: Path
) -> None:
    runtime = backend.runtime()
    task_queue = f"test-workflow-streams-{uuid.uuid4().hex[:8]}"
    stderr = tmp_path / "worker.err"
    proc = start_worker(runtime["temporal"], runtime["demo_model"], task_queue, stderr)
    try:
        replies, status = asyncio.run(converse(runtime["temporal"], task_queue))

        expected = "".join(counted_tokens(30))
        # Each reply's deltas, and only its own: the second subscription starts after the first.
        assert ["".join(deltas) for deltas in replies] == [expected, expected]
        assert all(len(deltas) == 30 for deltas in replies)
        assert status == WorkflowExecutionStatus.COMPLETED

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0, stderr.read_text()
        assert "Traceback" not in stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
