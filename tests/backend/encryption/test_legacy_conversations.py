"""Conversations written before the payload codec keep working, and become encrypted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.client.api import DuraChatClient
from backend.supervisor.binaries import find_temporal
from backend.supervisor.ports import free_port
from backend.temporal_connect import NAMESPACE, TASK_QUEUE
from backend.workflows.conversation_types import ConversationView
from tests.support.chat import with_client, workflow_runs
from tests.support.file_keyring import ENV as KEYRING_FILE_ENV
from tests.support.serve_process import REPO_ROOT, ServeProcess, child_env


def test_a_conversation_from_before_the_codec_answers_and_is_then_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(find_temporal()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
         "--port", str(port), "--db-filename", str(tmp_path / "temporal.db")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    cid = f"conversation-{uuid.uuid4()}"
    # A keyring of this test's own, empty: the key is made after the old conversation.
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv(KEYRING_FILE_ENV, str(keyring_file))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    env = child_env(
        **{KEYRING_FILE_ENV: str(keyring_file), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    )
    old_worker_log = (tmp_path / "pre-codec-worker.log").open("w")
    old_worker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.pre_codec_worker", address],
        stdout=subprocess.PIPE,
        # Its shutdown evicts the workflow mid-turn, which the agents SDK reports.
        stderr=old_worker_log,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    sp = ServeProcess(tmp_path / "data", args=["--temporal-address", address], env=env)
    try:
        assert old_worker.stdout is not None and old_worker.stdout.readline() == "polling\n"
        asyncio.run(_write_the_old_way(address, cid))
        old_worker.send_signal(signal.SIGTERM)
        assert old_worker.wait(timeout=30) == 0
        assert not keyring_file.exists()  # nothing was encrypted so far

        sp.start()  # makes the key; its worker picks up where the old one stopped
        view = with_client(sp.data_dir, lambda c: _answered_and_reencrypted(c, cid))
        assert view.turns[0].reply == "w1 w2 w3 "
        assert with_client(sp.data_dir, lambda c: _first_input_encoding(c, cid)) == (
            b"binary/encrypted"
        )
    finally:
        sp.close()
        old_worker.kill()
        old_worker.wait(timeout=30)
        old_worker_log.close()
        if old_worker.stdout is not None:
            old_worker.stdout.close()
        server.terminate()
        server.wait(timeout=30)


async def _write_the_old_way(address: str, cid: str) -> None:
    """Start a conversation in the clear and wait until the old worker has run its first
    workflow task: the model call is scheduled, its input written in the clear."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        try:
            old = await Client.connect(
                address, namespace=NAMESPACE, data_converter=pydantic_data_converter
            )
            break
        except RuntimeError:
            assert asyncio.get_running_loop().time() < deadline, "Temporal did not start"
            await asyncio.sleep(0.1)
    handle = await old.start_workflow(
        "Conversation",
        {"conversation_id": cid},
        id=cid,
        task_queue=TASK_QUEUE,
        start_signal="send",
        start_signal_args=[{"message_id": "m1", "text": "[demo tokens=3]"}],
    )
    while True:
        described = await handle.describe()
        pending = described.raw_description.pending_activities
        if any(a.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED for a in pending):
            return
        assert asyncio.get_running_loop().time() < deadline, "the old worker did not run"
        await asyncio.sleep(0.1)


async def _answered_and_reencrypted(client: DuraChatClient, cid: str) -> ConversationView:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        view = await client.history(cid)
        if view.turns[0].status == "done" and await workflow_runs(client, cid) >= 2:
            return view
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.2)


async def _first_input_encoding(client: DuraChatClient, cid: str) -> bytes:
    """How the newest run's input was written."""
    history = await client.temporal.get_workflow_handle(cid).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return started.input.payloads[0].metadata["encoding"]
