"""Conversations written before the payload codec keep working, and become encrypted."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.client_api import DuraChatClient
from backend.supervisor.binaries import find_temporal
from backend.supervisor.ports import free_port
from backend.temporal_connect import NAMESPACE, TASK_QUEUE, wait_until_serving
from backend.workflows.conversation_types import ConversationView
from tests.support.chat import with_client
from tests.support.file_keyring import ENV as KEYRING_FILE_ENV
from tests.support.serve_process import ServeProcess, child_env


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
    # A keyring of this test's own: the key is made after the old conversation began.
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv(KEYRING_FILE_ENV, str(keyring_file))

    async def write_the_old_way() -> None:
        await wait_until_serving(address, timeout=60, key=_unused_key())
        old = await Client.connect(
            address, namespace=NAMESPACE, data_converter=pydantic_data_converter
        )
        await old.start_workflow(
            "Conversation",
            {"conversation_id": cid},
            id=cid,
            task_queue=TASK_QUEUE,
            start_signal="send",
            start_signal_args=[{"message_id": "m1", "text": "[demo tokens=3]"}],
        )

    sp = ServeProcess(
        tmp_path / "data",
        args=["--temporal-address", address],
        env=child_env(**{KEYRING_FILE_ENV: str(keyring_file)}),
    )
    try:
        asyncio.run(write_the_old_way())
        sp.start()

        async def answered_and_reencrypted(client: DuraChatClient) -> ConversationView:
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                view = await client.history(cid)
                if view.runs >= 2 and view.turns[0].status == "done":
                    return view
                assert asyncio.get_running_loop().time() < deadline, view
                await asyncio.sleep(0.2)

        view = with_client(sp.data_dir, answered_and_reencrypted)
        assert view.turns[0].reply == "w1 w2 w3 "

        async def new_run_input_encoding(client: DuraChatClient) -> bytes:
            history = await client.temporal.get_workflow_handle(cid).fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            return started.input.payloads[0].metadata["encoding"]

        assert with_client(sp.data_dir, new_run_input_encoding) == b"binary/encrypted"
    finally:
        sp.close()
        server.terminate()
        server.wait(timeout=30)


def _unused_key():  # type: ignore[no-untyped-def]
    """wait_until_serving needs a key only to connect; this one is never stored."""
    from backend.encryption.payload_key import PayloadKey

    return PayloadKey.new()
