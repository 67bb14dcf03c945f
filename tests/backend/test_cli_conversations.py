"""``durachat list``, ``history``, ``export``, ``import`` and ``delete``: the CLI contract.

Automated checks use exactly these commands (DESIGN.md, "Command line"), so they are
run here as a user runs them, as processes, and their output is read as JSON:

- ``list [--search TEXT] --json``: an array of objects with at least
  ``conversation_id``, ``title``, ``updated_at``, ``running``; the search finds a
  conversation by the start of any word of its messages or replies, every word needed;
- ``history --conversation ID --json``: a ``turns`` array whose items hold ``turn_id``,
  ``user_text``, ``reply``, ``status``, ``tool_calls``;
- ``export`` (JSON round-trips through ``import`` exactly; Markdown reads as a transcript),
  ``import`` (also a ChatGPT ``conversations.json``), ``delete``;
- a user's error is one line on stderr and a non-zero exit;
- every reading command works with no backend running, and starts none.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from backend.client.api import DuraChatClient
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.supervisor.lock import DataDirLock
from backend.workflows.conversation_types import title_from
from tests.support.chat import on_text_delta, record_turn, with_client
from tests.support.serve_process import ServeProcess, child_env, durachat_argv

CHATGPT_EXPORT = Path(__file__).parent / "client" / "data" / "chatgpt_conversations.json"
LIST_KEYS = {"conversation_id", "title", "updated_at", "running"}
TURN_KEYS = {"turn_id", "user_text", "reply", "status", "tool_calls"}


def words(n: int) -> str:
    return "".join(counted_tokens(n))


def durachat(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command, *rest = args
    return subprocess.run(
        [*durachat_argv(), command, "--data-dir", str(data_dir), *rest],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """A user's error: a non-zero exit and one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("durachat: "), result.stderr
    return lines[0]


def listing(data_dir: Path, search: str | None = None) -> list[dict[str, Any]]:
    args = ["--json"] if search is None else ["--search", search, "--json"]
    rows = json.loads(ok(durachat(data_dir, "list", *args)).stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) >= LIST_KEYS, row
        assert isinstance(row["conversation_id"], str) and isinstance(row["title"], str)
        assert isinstance(row["updated_at"], float) and isinstance(row["running"], bool)
    return rows


def listed_ids(data_dir: Path, search: str | None = None) -> list[str]:
    return [row["conversation_id"] for row in listing(data_dir, search)]


def history(data_dir: Path, conversation_id: str, *extra: str) -> dict[str, Any]:
    view = json.loads(
        ok(
            durachat(data_dir, "history", "--conversation", conversation_id, "--json", *extra)
        ).stdout
    )
    assert view["conversation_id"] == conversation_id
    for turn in view["turns"]:
        assert set(turn) >= TURN_KEYS, turn
        assert isinstance(turn["tool_calls"], list)
    return view


def send(data_dir: Path, text: str, conversation_id: str | None = None) -> dict[str, Any]:
    """``durachat send --json``: the conversation and message ids and the result line."""
    args = ["--conversation", conversation_id] if conversation_id else []
    out = ok(durachat(data_dir, "send", *args, "--json", text)).stdout.splitlines()
    sent, result = json.loads(out[0]), json.loads(out[-1])
    assert sent["type"] == "sent" and result["type"] == "result", out
    assert result["status"] == "done", result
    return {"id": sent["conversation_id"], "message_id": sent["message_id"], **result}


def export_json(data_dir: Path, path: Path, *which: str) -> dict[str, Any]:
    ok(durachat(data_dir, "export", *which, "--format", "json", "-o", str(path)))
    exported: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return exported


def without_exported_at(exported: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in exported.items() if k != "exported_at"}


# -- list, search and history, with the backend running -------------------------------------


@pytest.fixture(scope="module")
def three(backend: ServeProcess) -> dict[str, dict[str, Any]]:
    """Three conversations made with ``durachat send``, oldest first: words to find in
    messages (aardvark, burrows, zebras, quokkas) and in a reply (the calculator's)."""
    d = backend.data_dir
    made: dict[str, dict[str, Any]] = {}
    made["a"] = send(d, "Aardvarks dig burrows at night [demo tokens=3]")
    made["b"] = send(d, "what is 6*7?")
    made["c"] = send(d, "Zebras and aardvarks meet [demo tokens=4]")
    made["c2"] = send(d, "Quokkas smile [demo tokens=2]", made["c"]["id"])
    return made


def test_list_json_has_every_conversation_newest_first(
    backend: ServeProcess, three: dict[str, dict[str, Any]]
) -> None:
    rows = [r for r in listing(backend.data_dir) if r["conversation_id"] in _ids(three)]
    assert [r["conversation_id"] for r in rows] == [three[k]["id"] for k in "cba"]
    assert [r["title"] for r in rows] == [
        title_from("Zebras and aardvarks meet [demo tokens=4]"),
        "what is 6*7?",
        title_from("Aardvarks dig burrows at night [demo tokens=3]"),
    ]
    assert rows[0]["updated_at"] > rows[1]["updated_at"] > rows[2]["updated_at"]
    assert not any(r["running"] for r in rows)


def _ids(made: dict[str, dict[str, Any]]) -> set[str]:
    return {m["id"] for m in made.values()}


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("aardvarks", "ac"),
        ("aardv", "ac"),  # the start of a word
        ("AARDV BURR", "a"),  # case ignored; every word needed
        ("verbatim", "b"),  # a word of the reply only ("the demo model quotes ... verbatim")
        ("calcul", "b"),  # the start of a word of the reply
        ("zebras quokkas", "c"),  # two words in two different turns
        ("quokka aardvark", "c"),
        ("aardvark verbatim", ""),  # in two different conversations: neither has both
        ("burrows zebras", ""),
        ("ardvark", ""),  # inside a word, not its start
    ],
)
def test_list_search_finds_by_words_of_messages_and_replies(
    backend: ServeProcess, three: dict[str, dict[str, Any]], search: str, found: str
) -> None:
    ids = [i for i in listed_ids(backend.data_dir, search) if i in _ids(three)]
    assert ids == [three[k]["id"] for k in "cba" if k in found]


def test_history_json_keeps_its_shape(
    backend: ServeProcess, three: dict[str, dict[str, Any]]
) -> None:
    d = backend.data_dir
    c = history(d, three["c"]["id"])
    assert [t["turn_id"] for t in c["turns"]] == [
        three["c"]["message_id"],
        three["c2"]["message_id"],
    ]
    assert [t["user_text"] for t in c["turns"]] == [
        "Zebras and aardvarks meet [demo tokens=4]",
        "Quokkas smile [demo tokens=2]",
    ]
    assert [t["reply"] for t in c["turns"]] == [words(4), words(2)]
    assert [t["reply"] for t in c["turns"]] == [three["c"]["reply"], three["c2"]["reply"]]
    assert [t["status"] for t in c["turns"]] == ["done", "done"]
    assert [t["tool_calls"] for t in c["turns"]] == [[], []]

    (b,) = history(d, three["b"]["id"])["turns"]
    assert b["turn_id"] == three["b"]["message_id"] and b["reply"] == three["b"]["reply"]
    (call,) = b["tool_calls"]
    assert (call["name"], call["status"], call["output"]) == ("calculator", "done", "42")
    assert json.loads(call["arguments"]) == {"expression": "6*7"}

    (last,) = history(d, three["c"]["id"], "--last", "1")["turns"]
    assert last["turn_id"] == three["c2"]["message_id"]


def test_history_of_an_unknown_conversation_is_one_line(backend: ServeProcess) -> None:
    line = one_line_error(
        durachat(backend.data_dir, "history", "--conversation", "conversation-nope", "--json")
    )
    assert "no such conversation" in line


# -- export and import ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def everything(backend: ServeProcess) -> str:
    """A conversation with every kind of turn: done, a tool call, failed, stopped
    mid-reply; renamed by the user."""

    async def chat(client: DuraChatClient) -> str:
        first = await record_turn(client, "Round trip, please keep everything [demo tokens=5]")
        cid = first.conversation_id
        await record_turn(client, "what is 12*7?", cid)
        await record_turn(client, "This one fails [demo tokens=4 fault=401]", cid)
        stopped = await record_turn(
            client,
            "A long one to stop [demo tokens=400 tps=40]",
            cid,
            on_event=on_text_delta(3, lambda e: client.stop(e.conversation_id, e.turn_id)),
        )
        assert stopped.turn.status == "stopped"
        await record_turn(client, "And a last word [demo tokens=2]", cid)
        await client.rename(cid, "Round trip: a title of my own")
        return cid

    return with_client(backend.data_dir, chat)


def test_export_json_then_import_into_a_fresh_data_dir_round_trips_exactly(
    backend: ServeProcess, everything: str, tmp_path: Path
) -> None:
    first = export_json(backend.data_dir, tmp_path / "one.json", "--conversation", everything)
    assert first["format"] == "durachat-export"
    (conv,) = first["conversations"]
    assert conv["conversation_id"] == everything
    assert conv["title"] == "Round trip: a title of my own"
    assert [t["status"] for t in conv["turns"]] == ["done", "done", "failed", "stopped", "done"]

    fresh = tmp_path / "fresh"
    imported = ok(durachat(fresh, "import", str(tmp_path / "one.json")))
    assert "imported 1 conversation" in imported.stderr
    second = export_json(fresh, tmp_path / "two.json", "--conversation", everything)
    assert without_exported_at(second) == without_exported_at(first)

    # The user reads the same conversation in both data dirs.
    assert history(fresh, everything) == history(backend.data_dir, everything)
    (row,) = listing(fresh)
    assert (row["conversation_id"], row["title"]) == (everything, "Round trip: a title of my own")
    # Importing it again changes nothing.
    ok(durachat(fresh, "import", str(tmp_path / "one.json")))
    third = export_json(fresh, tmp_path / "three.json", "--all")
    assert without_exported_at(third) == without_exported_at(first)
    # No backend was started for any of it: the fresh data dir never had one.
    assert not (fresh / "temporal.db").exists() and not (fresh / "runtime.json").exists()


def test_export_all_as_markdown_reads_as_the_transcripts(
    backend: ServeProcess, three: dict[str, dict[str, Any]], everything: str
) -> None:
    text = ok(durachat(backend.data_dir, "export", "--all", "--format", "markdown")).stdout
    for expected in (
        "Round trip: a title of my own",
        "Round trip, please keep everything [demo tokens=5]",
        "what is 12*7?",
        "This one fails [demo tokens=4 fault=401]",
        "the provider rejected the API key",
        words(5),
        "Zebras and aardvarks meet",
        "Quokkas smile [demo tokens=2]",
        three["b"]["reply"].splitlines()[0],
        "Aardvarks dig burrows at night",
    ):
        assert expected in text, expected


def test_import_of_a_chatgpt_export_lists_its_conversations(tmp_path: Path) -> None:
    d = tmp_path / "data"
    result = ok(durachat(d, "import", str(CHATGPT_EXPORT)))
    assert "imported 3 conversation(s)" in result.stderr
    rows = listing(d)
    assert sorted((r["conversation_id"], r["title"]) for r in rows) == [
        ("chatgpt-6555a1b2-0c3d-8000-9e4f-1234567890ab", "Regex for ISO dates"),
        ("chatgpt-66e0b7c8-1111-8000-aaaa-bbbbccccdddd", "Monthly sales chart"),
        (
            "chatgpt-67aa0000-2222-8000-bbbb-ccccddddeeee",
            "What is the weather like in Lisbon in March?",
        ),
    ]
    assert listed_ids(d, "regex iso") == ["chatgpt-6555a1b2-0c3d-8000-9e4f-1234567890ab"]
    turns = history(d, "chatgpt-6555a1b2-0c3d-8000-9e4f-1234567890ab")["turns"]
    assert [t["user_text"] for t in turns] == [
        "How do I match an ISO date like 2023-11-14 with a regex?",
        "And how would I check that the date really exists?",
    ]
    assert all(t["status"] == "done" and t["reply"] for t in turns)
    # Importing it again makes nothing twice.
    ok(durachat(d, "import", str(CHATGPT_EXPORT)))
    assert sorted(listed_ids(d)) == sorted(r["conversation_id"] for r in rows)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("not-json.json", b"this is not an export\n"),
        ("other.json", b'{"something": "else"}'),
        ("list-of-numbers.json", b"[1, 2, 3]"),
        ("damaged.json", b'{"format": "durachat-export", "version": 1, "conversations": [{}]}'),
        ("binary.json", bytes(range(256))),
        ("missing.json", None),
    ],
)
def test_a_bad_import_file_is_one_line_and_imports_nothing(
    tmp_path: Path, name: str, content: bytes | None
) -> None:
    d = tmp_path / "data"
    ok(durachat(d, "import", str(CHATGPT_EXPORT)))
    before = listing(d)
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    one_line_error(durachat(d, "import", str(path)))
    assert listing(d) == before


# -- delete ----------------------------------------------------------------------------------


def test_delete_removes_the_conversation_from_list_and_history(backend: ServeProcess) -> None:
    d = backend.data_dir
    doomed = send(d, "Pangolins are shy, delete me [demo tokens=3]")
    kept = send(d, "Pangolins stay [demo tokens=3]")
    assert {doomed["id"], kept["id"]} <= set(listed_ids(d, "pangolins"))

    result = ok(durachat(d, "delete", "--conversation", doomed["id"]))
    assert result.stderr.splitlines() == [f"deleted {doomed['id']}"]
    assert doomed["id"] not in listed_ids(d)
    assert listed_ids(d, "pangolins") == [kept["id"]]
    assert "no such conversation" in one_line_error(
        durachat(d, "history", "--conversation", doomed["id"], "--json")
    )
    # Gone everywhere: a message to it does not bring it back.
    again = durachat(d, "send", "--conversation", doomed["id"], "Hello? [demo tokens=2]")
    assert "no such conversation" in one_line_error(again)
    assert doomed["id"] not in listed_ids(d)


def test_delete_of_an_unknown_conversation_is_one_line(backend: ServeProcess) -> None:
    before = listing(backend.data_dir)
    line = one_line_error(
        durachat(backend.data_dir, "delete", "--conversation", "conversation-never-was")
    )
    assert "no such conversation" in line
    assert listing(backend.data_dir) == before


# -- with no backend running ---------------------------------------------------------------


def _backend_starts(data_dir: Path) -> int:
    """How many times a worker was started on the data dir (its log says each start)."""
    log = data_dir / "logs" / "worker.log"
    return log.read_text(errors="replace").count("--- starting:") if log.exists() else 0


def _processes_on(data_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(data_dir) in part for part in cmdline):
            found.append(" ".join(cmdline))
    return found


def test_every_reading_command_works_with_the_backend_stopped(
    serve: ServeProcess, data_dir: Path, tmp_path: Path
) -> None:
    serve.start()
    first = send(data_dir, "Ocelots at dusk [demo tokens=3]")
    second = send(data_dir, "what is 6*7?")
    send(data_dir, "Ocelots at dawn [demo tokens=2]", first["id"])
    assert serve.terminate() == 0
    assert not (data_dir / "runtime.json").exists()
    starts = _backend_starts(data_dir)

    timings: dict[str, float] = {}

    def timed(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        began = time.perf_counter()
        result = durachat(data_dir, *args)
        timings[name] = time.perf_counter() - began
        ok(result)
        # Nothing was started for it, nor left behind.
        assert not (data_dir / "runtime.json").exists(), name
        assert not DataDirLock(DataDir(data_dir)).is_held_elsewhere(), name
        assert _backend_starts(data_dir) == starts, f"{name} started a backend"
        assert _processes_on(data_dir) == [], name
        return result

    rows = json.loads(timed("list --json", "list", "--json").stdout)
    assert [r["conversation_id"] for r in rows] == [first["id"], second["id"]]
    found = json.loads(timed("list --search", "list", "--search", "ocelots daw", "--json").stdout)
    assert [r["conversation_id"] for r in found] == [first["id"]]
    view = json.loads(
        timed("history --json", "history", "--conversation", first["id"], "--json").stdout
    )
    assert [t["reply"] for t in view["turns"]] == [words(3), words(2)]
    newest = json.loads(
        timed("history --last 1", "history", "--conversation", first["id"], "--last", "1").stdout
    )
    assert [t["user_text"] for t in newest["turns"]] == ["Ocelots at dawn [demo tokens=2]"]
    out = tmp_path / "all.json"
    timed("export --format json", "export", "--all", "--format", "json", "-o", str(out))
    assert len(json.loads(out.read_text())["conversations"]) == 2
    markdown = timed("export --format markdown", "export", "--all", "--format", "markdown").stdout
    assert "Ocelots at dusk" in markdown and "42" in markdown
    line = one_line_error(durachat(data_dir, "delete", "--conversation", "conversation-never-was"))
    assert "no such conversation" in line
    assert _backend_starts(data_dir) == starts and not (data_dir / "runtime.json").exists()
    print("\nwith the backend stopped, as processes:")  # measured, not asserted
    for name, seconds in timings.items():
        print(f"  durachat {name}: {seconds * 1000:.0f} ms")

    # Deleting needs the backend (the workflow and its stream go too): one is started
    # for the call and stopped after it, as for send.
    ok(durachat(data_dir, "delete", "--conversation", second["id"]))
    assert listed_ids(data_dir) == [first["id"]]
    assert not (data_dir / "runtime.json").exists()
    assert not DataDirLock(DataDir(data_dir)).is_held_elsewhere()
