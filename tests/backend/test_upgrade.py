"""A data dir made by DuraChat before the conversation store opens with today's code.

The fixture (tests/fixtures/upgrade_38c3782, see its README) holds four conversations
that commit 38c3782 kept only in its workflows: a finished one the user renamed, one
with tool calls, one stopped mid-reply, one whose last turn failed. With the new code,
as a user would: ``durachat list`` with no backend running lists them all (it starts a
backend once, to move them into the store), ``history`` shows each as the old code
did, each continues with a new message, and after the backend stops everything reads
from the store with no backend at all.

The tests run in order on one unpacked data dir (module-scoped), one step each.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from backend.client.store import ConversationStore
from backend.client.store_types import WORKFLOWS_IMPORTED, ExportedConversation
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.supervisor.lock import DataDirLock
from tests.support.file_keyring import own_keyring
from tests.support.serve_process import ServeProcess, child_env, durachat_argv
from tests.support.upgrade_fixture import install_fixture_key, unpack_upgrade_fixture

LIST_FIELDS = ("conversation_id", "title", "updated_at", "running")
NEW_MESSAGE = "Back after the upgrade [demo tokens=4]"
TOOL_MESSAGE = 'And 2+3, please [demo tool=calculator:{"expression": "2+3"}]'


@dataclass
class Upgrade:
    data_dir: Path
    expected: dict[str, Any]
    serve: ServeProcess | None = None
    # Conversation id -> its history as read while the backend ran, after the new turns.
    continued: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [row["conversation_id"] for row in self.expected["list"]]


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    root = tmp_path_factory.mktemp("upgrade")
    (root / "user").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        # A user of its own: the fixture's key must not replace the run's key.
        own_keyring(root / "user", mp)
        install_fixture_key()
        data_dir, expected = unpack_upgrade_fixture(root / "data")
        up = Upgrade(data_dir, expected)
        try:
            yield up
        finally:
            if up.serve is not None:
                up.serve.close()


def durachat(data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    command, *rest = args
    result = subprocess.run(
        [*durachat_argv(), command, "--data-dir", str(data_dir), *rest],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )
    assert result.returncode == 0, f"durachat {command} exited {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def list_json(data_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(durachat(data_dir, "list", "--json").stdout)
    return rows


def history_json(data_dir: Path, conversation_id: str) -> dict[str, Any]:
    view: dict[str, Any] = json.loads(
        durachat(data_dir, "history", "--conversation", conversation_id, "--json").stdout
    )
    return view


def backend_starts(data_dir: Path) -> int:
    """How many times a worker was started on the data dir (its log says each start)."""
    log = data_dir / "logs" / "worker.log"
    return log.read_text(errors="replace").count("--- starting:") if log.exists() else 0


def no_backend_left(data_dir: Path) -> None:
    assert not (data_dir / "runtime.json").exists()
    assert not DataDirLock(DataDir(data_dir)).is_held_elsewhere()


def as_the_old_code_said(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``new`` cut to the fields the old code's output had (tool calls too)."""
    cut = {key: new.get(key) for key in old}
    if "tool_calls" in old:
        cut["tool_calls"] = [
            as_the_old_code_said(call, old_call)
            for call, old_call in zip(new["tool_calls"], old["tool_calls"], strict=False)
        ] + new["tool_calls"][len(old["tool_calls"]) :]
    return cut


def assert_old_turns_kept(view: dict[str, Any], old_view: dict[str, Any]) -> None:
    old_turns = old_view["turns"]
    assert len(view["turns"]) >= len(old_turns)
    for turn, old in zip(view["turns"], old_turns, strict=False):
        assert as_the_old_code_said(turn, old) == old, turn["turn_id"]


# -- (a) list, with no backend running ------------------------------------------------------


def test_list_with_no_backend_lists_every_old_conversation(upgrade: Upgrade) -> None:
    d = upgrade.data_dir
    assert not (d / "conversations.db").exists() and not (d / "runtime.json").exists()
    rows = list_json(d)
    assert [{k: r[k] for k in LIST_FIELDS} for r in rows] == [
        {k: r[k] for k in LIST_FIELDS} for r in upgrade.expected["list"]
    ]
    renamed = upgrade.expected["renamed"]
    (row,) = [r for r in rows if r["conversation_id"] == renamed["conversation_id"]]
    assert row["title"] == renamed["title"] == "Upgrade fixture: a finished chat"
    # A backend was started once, for the move, and stopped again.
    assert backend_starts(d) == 1
    no_backend_left(d)
    # The next list needs none.
    assert list_json(d) == rows
    assert backend_starts(d) == 1
    no_backend_left(d)


# -- (b) history, as the old code showed it --------------------------------------------------


def test_history_of_each_is_what_the_old_code_showed(upgrade: Upgrade) -> None:
    d = upgrade.data_dir
    histories = upgrade.expected["histories"]
    roles = upgrade.expected["roles"]
    assert set(histories) == set(upgrade.ids) == set(roles.values())
    for cid, old in histories.items():
        view = history_json(d, cid)
        for key in ("conversation_id", "title", "created_at", "updated_at", "running_turn_id"):
            assert view[key] == old[key], (cid, key)
        assert len(view["turns"]) == len(old["turns"])
        assert_old_turns_kept(view, old)

    # What each role is about, said plainly.
    tools = history_json(d, roles["tools"])["turns"]
    assert [[(c["name"], c["output"]) for c in t["tool_calls"]] for t in tools] == [
        [("calculator", "84"), ("current_time", tools[0]["tool_calls"][1]["output"])],
        [("calculator", "42")],
    ]
    stopped = history_json(d, roles["stopped"])["turns"]
    assert [t["status"] for t in stopped] == ["stopped", "done"]
    assert stopped[0]["reply"] == "".join(counted_tokens(10))
    failed = history_json(d, roles["failed"])["turns"]
    assert [t["status"] for t in failed] == ["done", "failed"]
    assert failed[1]["error"]["message"] == "the provider rejected the API key: HTTP 401"
    assert backend_starts(d) == 1  # read from the store
    no_backend_left(d)


# -- (c) each conversation continues ---------------------------------------------------------


def send(data_dir: Path, text: str, conversation_id: str | None = None) -> dict[str, Any]:
    args = ["--conversation", conversation_id] if conversation_id else []
    lines = durachat(data_dir, "send", *args, "--json", text).stdout.splitlines()
    sent, result = json.loads(lines[0]), json.loads(lines[-1])
    assert result["type"] == "result" and result["status"] == "done", result
    return {"conversation_id": sent["conversation_id"], "message_id": sent["message_id"], **result}


def test_each_old_conversation_continues_with_a_new_message(upgrade: Upgrade) -> None:
    d = upgrade.data_dir
    upgrade.serve = ServeProcess(d)  # made under the test's own keyring
    upgrade.serve.start()
    # What a brand-new conversation's model call is sent for the same message: each
    # continued one is sent more, the turns before it.
    fresh = send(d, NEW_MESSAGE)
    (fresh_turn,) = history_json(d, fresh["conversation_id"])["turns"]

    for cid in upgrade.ids:
        result = send(d, NEW_MESSAGE, cid)
        assert result["conversation_id"] == cid
        assert result["reply"] == "".join(counted_tokens(4))
        view = history_json(d, cid)
        old = upgrade.expected["histories"][cid]
        assert_old_turns_kept(view, old)
        assert len(view["turns"]) == len(old["turns"]) + 1
        new = view["turns"][-1]
        assert (new["turn_id"], new["user_text"], new["status"], new["reply"]) == (
            result["message_id"],
            NEW_MESSAGE,
            "done",
            result["reply"],
        )
        assert new["input_tokens"] > fresh_turn["input_tokens"], (cid, new, fresh_turn)
        assert view["title"] == old["title"]  # the renamed one keeps the user's title

    # A tool call in the conversation that had tools before.
    tools = upgrade.expected["roles"]["tools"]
    result = send(d, TOOL_MESSAGE, tools)
    view = history_json(d, tools)
    (call,) = view["turns"][-1]["tool_calls"]
    assert (call["name"], call["status"], call["output"]) == ("calculator", "done", "5")
    assert "5" in result["reply"]

    listed = {r["conversation_id"]: r for r in list_json(d)}
    assert set(listed) == {*upgrade.ids, fresh["conversation_id"]}
    for cid in upgrade.ids:
        upgrade.continued[cid] = history_json(d, cid)
        assert listed[cid]["updated_at"] > upgrade.expected["histories"][cid]["updated_at"]
        assert not listed[cid]["running"]


# -- (d) after the backend stops --------------------------------------------------------------


def test_after_the_backend_stops_everything_reads_from_the_store(upgrade: Upgrade) -> None:
    if upgrade.serve is None or not upgrade.continued:
        pytest.fail("the test before did not continue the conversations")
    d = upgrade.data_dir
    assert upgrade.serve.terminate() == 0
    starts = backend_starts(d)
    no_backend_left(d)

    rows = list_json(d)
    assert len(rows) == 5
    for cid, seen in upgrade.continued.items():
        view = history_json(d, cid)
        assert view == seen
        assert view["turns"][-1]["status"] == "done"
        (row,) = [r for r in rows if r["conversation_id"] == cid]
        assert (row["title"], row["updated_at"]) == (view["title"], view["updated_at"])
    assert backend_starts(d) == starts
    no_backend_left(d)


def test_the_renamed_title_is_still_the_users_own(upgrade: Upgrade, tmp_path: Path) -> None:
    """The old workflow knew the title was chosen by the user; the store must too (an
    export says so, and a title made from a message never replaces it)."""
    renamed = upgrade.expected["renamed"]
    out = tmp_path / "renamed.json"
    durachat(
        upgrade.data_dir,
        "export",
        "--conversation",
        renamed["conversation_id"],
        "--format",
        "json",
        "-o",
        str(out),
    )
    (conv,) = json.loads(out.read_text(encoding="utf-8"))["conversations"]
    assert conv["title"] == renamed["title"]
    assert conv["title_is_custom"] is True


# -- (e) a message that reaches an old run before it was asked to move ------------------------


def test_a_message_to_an_old_run_that_was_never_moved_is_stored(tmp_path: Path) -> None:
    """The move at first start may lose the race with the user's first message (or be
    interrupted): an old run that takes a message hands it to a new run, which answers
    it into the store, with the old turns written there too."""
    (tmp_path / "user").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        own_keyring(tmp_path / "user", mp)
        install_fixture_key()
        data_dir, expected = unpack_upgrade_fixture(tmp_path / "data")
        # As if the move had written this conversation and stopped before its run heard
        # ``refresh``: the store has its turns as the old code showed them, and the move
        # is marked done.
        cid = expected["roles"]["tools"]
        old = expected["histories"][cid]
        with ConversationStore.in_data_dir(data_dir) as store:
            store.import_conversation(ExportedConversation.model_validate(old))
            store.set_meta(WORKFLOWS_IMPORTED, "1")
        serve = ServeProcess(data_dir)
        try:
            serve.start()
            result = send(data_dir, NEW_MESSAGE, cid)
            assert result["reply"] == "".join(counted_tokens(4))
            view = history_json(data_dir, cid)
            assert_old_turns_kept(view, old)
            assert [t["status"] for t in view["turns"]] == ["done"] * (len(old["turns"]) + 1)
            assert view["turns"][-1]["turn_id"] == result["message_id"]
            assert serve.terminate() == 0
        finally:
            serve.close()
    # Everything is in the store: it reads the same with no backend.
    assert history_json(data_dir, cid) == view
