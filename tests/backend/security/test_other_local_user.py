"""Finding closed: another local user can neither read nor steer the owner's conversations.

The finding: another Unix user on the machine ran ``temporal workflow list`` and
``workflow query --name history`` against DuraChat's Temporal server and read the
owner's messages; a ``signal-with-start`` of a ``Conversation`` workflow whose message
forced ``read_file`` made the owner's worker read a 0600 file and return its text.

Temporal's port is on loopback but open to every local user, so the fix is not to hide
the server: every payload is AES-GCM encrypted with the owner's key, and the workflow
drops any start input or signal not encrypted with it. Here the other user is real
(``nobody``, via ``setpriv``, since the suite runs as root) and uses the real Temporal
CLI, exactly as in the finding; the owner uses the client API the window uses.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.client import WorkflowExecutionStatus

from backend.client.api import WORKFLOW_TYPE, DuraChatClient
from backend.client.errors import NoSuchConversation
from backend.encryption.codec import ENCODING
from backend.local.settings import Settings
from backend.stream.redis_stream import stream_key
from backend.supervisor.binaries import find_temporal
from backend.temporal_connect import TASK_QUEUE
from backend.workflows.conversation_types import ConversationView
from tests.support.chat import FILE_TOOLS_ALLOWED, record_turn, with_client
from tests.support.serve_process import ServeProcess, wait_until

T = TypeVar("T")

OTHER_USER, OTHER_GROUP = "nobody", "nogroup"
ENCRYPTED = ENCODING.decode()
# The CLI prints payload metadata and data as base64 in JSON (and in a query result it
# cannot decode): searched for as it is printed, a secret would never be found.
_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
# What the workflow logs when it drops input (backend/workflows/conversation.py and
# trusted_input.py): matched with the reason, so a payload dropped for another reason
# (a malformed one, say) cannot pass for one dropped because it was not encrypted.
NOT_OURS = "not encrypted, so not sent by DuraChat"
START_DROPPED = f"not starting this conversation: start input: {NOT_OURS}"
SIGNAL_DROPPED = f"dropped a 'send' signal: send: {NOT_OURS}"


@dataclass(frozen=True)
class Outsider:
    """Another Unix user with nothing but the Temporal CLI and the server's address."""

    cli: Path
    home: Path
    address: str

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """``argv`` as the other user, with an environment of its own (nothing of ours)."""
        setpriv = shutil.which("setpriv")
        assert setpriv, "this test needs setpriv (util-linux) to act as another user"
        return subprocess.run(
            [setpriv, f"--reuid={OTHER_USER}", f"--regid={OTHER_GROUP}", "--clear-groups", *argv],
            env={"HOME": str(self.home), "TMPDIR": str(self.home), "PATH": "/usr/bin:/bin"},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def temporal(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.cli), *args, "--address", self.address)


@pytest.fixture(scope="module")
def outsider(backend: ServeProcess) -> Iterator[Outsider]:
    # Acting as another user takes root; CI runs as root. Skipping would quietly drop
    # the only end-to-end proof of this finding, so say plainly what is missing.
    assert os.geteuid() == 0, "this test switches to another Unix user, which needs root"
    user, group = pwd.getpwnam(OTHER_USER), grp.getgrnam(OTHER_GROUP)
    assert backend.ready is not None
    # The repo and pytest's tmp dirs (0700) may not be traversable by the other user: its
    # copy of the CLI lives in a world-readable dir, its home is its own.
    root = Path(tempfile.mkdtemp(prefix="durachat-outsider-"))
    try:
        root.chmod(0o755)
        cli = root / "temporal"
        shutil.copyfile(find_temporal(), cli)
        cli.chmod(0o755)
        home = root / "home"
        home.mkdir(mode=0o700)
        os.chown(home, user.pw_uid, group.gr_gid)
        yield Outsider(cli=cli, home=home, address=backend.ready["temporal"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def granted_secret(backend: ServeProcess, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A 0600 file holding a secret, in the folder the owner granted the file tools."""
    granted = tmp_path / "granted"
    granted.mkdir()
    secret = f"file-secret-{secrets.token_hex(12)}"
    path = granted / "secret.txt"
    path.write_text(secret)
    path.chmod(0o600)
    settings = backend.data_dir / "settings.json"
    Settings(granted_folder=str(granted), tool_policies=FILE_TOOLS_ALLOWED).save(settings)
    yield path, secret
    Settings().save(settings)


@dataclass(frozen=True)
class ShownPayload:
    field: str  # what holds it: "input", "result", a header's name...
    encoding: str
    data: bytes


def payloads(show_json: str) -> list[ShownPayload]:
    """Every payload in ``temporal workflow show --output json``, decoded from base64."""
    found: list[ShownPayload] = []

    def walk(node: object, field: str) -> None:
        if isinstance(node, dict):
            metadata = node.get("metadata")
            if isinstance(metadata, dict) and "encoding" in metadata:
                encoding = base64.b64decode(metadata["encoding"]).decode()
                found.append(ShownPayload(field, encoding, base64.b64decode(node.get("data", ""))))
                return
            for key, value in node.items():
                walk(value, field if key == "payloads" else key)
        elif isinstance(node, list):
            for value in node:
                walk(value, field)

    walk(json.loads(show_json), "")
    return found


def readable(output: str) -> str:
    """The CLI's output with every base64 run in it decoded as well."""
    decoded = [output]
    for run in _BASE64.findall(output):
        try:
            decoded.append(base64.b64decode(run, validate=True).decode("utf-8", "replace"))
        except binascii.Error:
            continue  # not base64 after all (a word, an id)
    return "\n".join(decoded)


def owner(backend: ServeProcess, fn: Callable[[DuraChatClient], Awaitable[T]]) -> T:
    return with_client(backend.data_dir, fn, timeout=60)


def read_file_directive(path: Path) -> str:
    """A message that makes the demo model call read_file on ``path`` (relative to the
    granted folder), whatever else the message says: see backend/demo_model/directives.py."""
    return f'[demo tool=read_file:{{"path": "{path.name}"}}] what does this file say?'


def test_another_local_user_can_neither_read_nor_steer_conversations(
    backend: ServeProcess, outsider: Outsider, granted_secret: tuple[Path, str]
) -> None:
    secret_file, file_secret = granted_secret
    token = secrets.token_hex(12)
    secret_sentence = f"Between us: the code to my flat's door is {token}."
    worker_log = backend.data_dir / "logs" / "worker.log"

    # The other user cannot read the file itself: the attack is to make the owner's
    # worker read it.
    assert outsider.run("cat", str(secret_file)).returncode != 0

    # -- the owner's conversation, with a secret in it -----------------------------------
    mine = owner(backend, lambda c: record_turn(c, secret_sentence))
    assert mine.turn.status == "done", mine.turn.error
    conversation = mine.conversation_id
    assert mine.turn.user_text == secret_sentence  # the secret really is in the conversation

    # -- reading: list, show and query, as in the finding --------------------------------
    listed = outsider.temporal("workflow", "list")
    shown = outsider.temporal("workflow", "show", "-w", conversation, "--output", "json")
    queried = outsider.temporal("workflow", "query", "-w", conversation, "--name", "history")
    # The server answers the other user (it sees the conversation exists): only the
    # encryption keeps the text from it, which is what this test is about.
    assert listed.returncode == 0, listed.stderr
    assert conversation in listed.stdout
    assert shown.returncode == 0, shown.stderr
    # The worker answers the query too, with ciphertext.
    assert queried.returncode == 0, queried.stderr
    assert "QueryResult" in queried.stdout and ENCRYPTED in readable(queried.stdout)
    for result in (listed, shown, queried):
        seen = readable(result.stdout + result.stderr)
        assert token not in seen, f"{result.args[-6:]} revealed the owner's message"
    # The history is all there, but every input and result in it is ciphertext (what is
    # plain is Temporal's and DuraChat's bookkeeping: ids in headers, patch markers).
    carried = [p for p in payloads(shown.stdout) if p.field in ("input", "result")]
    assert len(carried) >= 3, shown.stdout[:3000]  # start input, the message, a result
    assert {p.encoding for p in carried} == {ENCRYPTED}

    # -- steering: a new conversation and a signal to the owner's, both forcing read_file
    attack = read_file_directive(secret_file)
    theirs = f"conversation-{uuid.uuid4()}"
    started = outsider.temporal(
        "workflow", "signal-with-start",
        "--workflow-id", theirs,
        "--type", WORKFLOW_TYPE,
        "--task-queue", TASK_QUEUE,
        "--signal-name", "send",
        "--signal-input", json.dumps({"message_id": "m1", "text": attack}),
        "--input", json.dumps({"conversation_id": theirs}),
    )  # fmt: skip
    signalled = outsider.temporal(
        "workflow", "signal",
        "-w", conversation,
        "--name", "send",
        "--input", json.dumps({"message_id": "m2", "text": attack}),
    )  # fmt: skip
    # The server took both (anyone local may signal): the workflow must refuse them.
    assert started.returncode == 0, started.stderr
    assert signalled.returncode == 0, signalled.stderr

    async def after_the_attack(client: DuraChatClient) -> tuple[str, ConversationView, str]:
        # Their run ends at once: the workflow completes a run whose input is not ours.
        handle = client.temporal.get_workflow_handle(theirs)
        deadline = time.monotonic() + 20
        while (await handle.describe()).status != WorkflowExecutionStatus.COMPLETED:
            # A stream for it means the workflow took their message and began a turn.
            assert not await client.redis.exists(stream_key(theirs)), "their message ran"
            assert time.monotonic() < deadline, f"{theirs} still not completed"
            await asyncio.sleep(0.1)
        # Signals are applied in the order the server took them: an answer to this later
        # message means the injected one was handled (and dropped) before it.
        later = await record_turn(client, "[demo tokens=3]", conversation)
        assert later.turn.status == "done" and later.turn.reply == "w1 w2 w3 "
        view = await client.history(conversation)
        assert theirs not in {c.conversation_id for c in await client.list()}
        with pytest.raises(NoSuchConversation):  # nothing of it reached the store
            await client.history(theirs)
        # Everything the worker streamed, for every conversation, to search for the file.
        streamed = []
        async for key in client.redis.scan_iter(match="durachat:*"):
            if await client.redis.type(key) == b"stream":
                streamed += [repr(fields) for _, fields in await client.redis.xrange(key)]
        assert not await client.redis.exists(stream_key(theirs))  # no turn ever started
        return later.turn_id, view, "\n".join(streamed)

    later_turn_id, view, streamed = owner(backend, after_the_attack)

    # The owner's conversation holds exactly the owner's two turns; no tool ran.
    assert [t.user_text for t in view.turns] == [secret_sentence, "[demo tokens=3]"]
    assert [t.turn_id for t in view.turns] == [mine.turn_id, later_turn_id]
    assert all(t.status == "done" and t.tool_calls == [] for t in view.turns)
    assert file_secret not in streamed
    assert token in streamed  # the search above did read the owner's stream

    # The worker says why it dropped each one (the log reaches the file via the supervisor).
    def dropped_lines() -> list[str] | None:
        lines = worker_log.read_text(errors="replace").splitlines()
        start = [line for line in lines if START_DROPPED in line and theirs in line]
        signal = [line for line in lines if SIGNAL_DROPPED in line and conversation in line]
        return start + signal if start and signal else None

    wait_until(dropped_lines, timeout=10, what="the worker's log of the dropped input")
    assert file_secret not in worker_log.read_text(errors="replace")

    # Controls, so the checks above cannot pass for the wrong reason:
    # 1. the same reading finds a plain payload (the other user reads back its own
    #    message), so the owner's text stayed hidden above only because it was encrypted;
    their_history = outsider.temporal("workflow", "show", "-w", theirs, "--output", "json")
    assert their_history.returncode == 0, their_history.stderr
    their_inputs = [p for p in payloads(their_history.stdout) if p.field == "input"]
    assert {p.encoding for p in their_inputs} == {"json/plain"}
    assert {"message_id": "m1", "text": attack} in [json.loads(p.data) for p in their_inputs]
    assert "what does this file say?" in readable(their_history.stdout)
    # 2. the same message from the owner does read the file: had the workflow taken the
    #    other user's message, the secret would have been streamed and recorded.
    control = owner(backend, lambda c: record_turn(c, attack))
    (call,) = control.turn.tool_calls
    assert call.name == "read_file" and call.status == "done"
    assert call.output == file_secret
