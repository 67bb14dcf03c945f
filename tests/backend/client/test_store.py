"""The conversation store: a SQLite file, tested directly (no servers, fast)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.client.errors import NoSuchConversation, StoreError
from backend.client.store import IMPORT_PREVIEW_CHARS, ConversationStore
from backend.client.store_schema import CREATE_MIGRATIONS_TABLE, MIGRATIONS
from backend.client.store_types import ExportedConversation
from backend.workflows.conversation_types import ToolCallRecord, Turn, TurnError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    with ConversationStore.in_data_dir(tmp_path) as s:
        yield s


def _turn(turn_id: str, text: str, reply: str = "", *, at: float = 1.0, **fields) -> Turn:
    done = {"status": "done", "started_at": at + 1, "ended_at": at + 2} if reply else {}
    return Turn(turn_id=turn_id, user_text=text, reply=reply, queued_at=at, **(done | fields))


def _call(call_id: str, *, output: str | None = "42", status: str = "done") -> ToolCallRecord:
    return ToolCallRecord(
        call_id=call_id, name="calculator", arguments='{"x": "6*7"}', status=status, output=output
    )


def _ids(store: ConversationStore, search: str = "") -> list[str]:
    return [c.conversation_id for c in store.list_conversations(search)]


# -- opening ---------------------------------------------------------------------


def test_the_store_file_and_its_companions_are_private_whatever_the_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        with ConversationStore.in_data_dir(tmp_path) as store:
            store.add_message("c1", "m1", "hello", at=1.0, delivered=True)
            files = sorted(p.name for p in tmp_path.iterdir())
            modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    finally:
        os.umask(old)
    assert files == ["conversations.db", "conversations.db-shm", "conversations.db-wal"]
    assert set(modes.values()) == {0o600}


def test_a_store_made_by_a_newer_durachat_is_refused_in_one_line(tmp_path: Path) -> None:
    ConversationStore.in_data_dir(tmp_path).close()
    db = sqlite3.connect(tmp_path / "conversations.db")
    db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="made by a newer DuraChat") as caught:
        ConversationStore.in_data_dir(tmp_path)
    assert "\n" not in str(caught.value)


def test_an_older_store_is_brought_up_to_date_keeping_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    db = sqlite3.connect(path)
    db.execute(CREATE_MIGRATIONS_TABLE)
    version, statements = MIGRATIONS[0]
    for statement in statements:
        db.execute(statement)
    db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))
    db.execute(
        "INSERT INTO conversations (id, conversation_id, title, created_at, updated_at)"
        " VALUES (1, 'c1', 'Old times', 1, 2)"
    )
    db.execute(
        "INSERT INTO turns (id, conversation_id, turn_id, seq, user_text, status, reply)"
        " VALUES (4294967297, 'c1', 'm1', 1, 'remember this', 'done', 'remembered')"
    )
    db.commit()
    db.close()
    with ConversationStore(path) as store:
        assert _ids(store, "remember old") == ["c1"]  # indexed by the newer versions
        assert store.history("c1").turns[0].reply == "remembered"


def test_a_damaged_store_is_refused_in_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    path.write_bytes(b"this is not a database, it was overwritten\n" * 200)
    with pytest.raises(StoreError, match="damaged") as caught:
        ConversationStore(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_store_that_cannot_be_created_says_where(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open") as caught:
        ConversationStore(tmp_path / "no-such-dir" / "conversations.db")
    assert "no-such-dir" in str(caught.value)


def test_a_full_disk_is_a_store_error_and_loses_nothing_written(
    store: ConversationStore,
) -> None:
    store.add_message("c1", "m1", "kept", at=1.0, delivered=True)
    # A database that may not grow stands in for a full disk: SQLite says SQLITE_FULL.
    assert store._conn is not None
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="full"):
        store.record_turn("c2", _turn("m2", "x" * 100_000, "y" * 100_000))
    assert _ids(store) == ["c1"]
    assert store.get_conversation("c2") is None


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = ConversationStore.in_data_dir(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_conversations()


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    with (
        ConversationStore.in_data_dir(tmp_path) as window,
        ConversationStore.in_data_dir(tmp_path) as worker,
    ):
        window.add_message("c1", "m1", "hello", at=1.0, delivered=False)
        assert [m.message_id for m in worker.undelivered()] == ["m1"]
        worker.record_turn("c1", _turn("m1", "hello", "hi there"))
        assert window.history("c1").turns[0].reply == "hi there"
        assert window.undelivered() == []


def test_threads_share_one_store(store: ConversationStore) -> None:
    def send(n: int) -> None:
        for i in range(20):
            store.add_message("c1", f"m{n}-{i}", "hello", at=float(i), delivered=True)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    turns = store.history("c1").turns
    assert len(turns) == 80
    assert store.get_conversation("c1").turn_count == 80  # type: ignore[union-attr]


# -- writing ---------------------------------------------------------------------


def test_a_message_added_twice_is_kept_once(store: ConversationStore) -> None:
    assert store.add_message("c1", "m1", "What is  6*7?", at=10.0, delivered=False)
    assert not store.add_message("c1", "m1", "What is  6*7?", at=20.0, delivered=True)
    [record] = store.list_conversations()
    assert (record.title, record.created_at, record.updated_at) == ("What is 6*7?", 10.0, 10.0)
    assert (record.turn_count, record.running) == (1, True)
    assert [t.status for t in store.history("c1").turns] == ["queued"]


def test_undelivered_messages_wait_oldest_first_until_delivered(
    store: ConversationStore,
) -> None:
    store.add_message("c2", "late", "second", at=20.0, delivered=False)
    store.add_message("c1", "early", "first", at=10.0, delivered=False)
    store.add_message("c1", "taken", "sent at once", at=15.0, delivered=True)
    held = store.undelivered()
    assert [(m.message_id, m.text, m.held_at) for m in held] == [
        ("early", "first", 10.0),
        ("late", "second", 20.0),
    ]
    store.mark_delivered("early")
    store.mark_delivered("no-such-message")
    assert [m.message_id for m in store.undelivered()] == ["late"]
    assert [t.turn_id for t in store.unfinished_turns("c1")] == ["early", "taken"]


def test_a_held_message_the_backend_refused_for_good_can_be_discarded(
    store: ConversationStore,
) -> None:
    store.add_message("c1", "m1", "answered", at=1.0, delivered=True)
    store.add_message("c1", "m2", "refused", at=2.0, delivered=False)
    store.add_message("c2", "m3", "refused, alone", at=3.0, delivered=False)
    store.discard_held("m2")
    store.discard_held("m3")
    store.discard_held("m1")  # delivered: the backend has it, it stays
    assert store.undelivered() == []
    assert [t.turn_id for t in store.history("c1").turns] == ["m1"]
    assert _ids(store) == ["c1"]  # c2 held nothing else


def test_recording_a_turn_twice_is_recording_it_once(store: ConversationStore) -> None:
    store.add_message("c1", "m1", "hello", at=1.0, delivered=False)
    turn = _turn("m1", "hello", "hi", tool_calls=[_call("k1")], input_tokens=5)
    store.record_turn("c1", turn, items=[{"role": "user", "content": "hello"}], model="m")
    once = store.export_conversation("c1")
    store.record_turn("c1", turn, items=[{"role": "user", "content": "hello"}], model="m")
    assert store.export_conversation("c1") == once
    assert store.undelivered() == []
    [record] = store.list_conversations()
    assert (record.turn_count, record.running, record.model) == (1, False, "m")


def test_a_late_write_of_an_older_state_never_takes_a_finished_turn_back(
    store: ConversationStore,
) -> None:
    running = _turn("m1", "hello", status="running", started_at=2.0)
    store.record_turn("c1", running)
    assert store.history("c1").running_turn_id == "m1"
    store.record_turn("c1", _turn("m1", "hello", "the whole answer", tool_calls=[_call("k1")]))
    store.record_turn("c1", running)  # replayed, or an activity retried late
    store.record_tool_call("c1", "m1", _call("k1", output=None, status="running"))
    view = store.history("c1")
    [turn] = view.turns
    assert (turn.status, turn.reply, view.running_turn_id) == ("done", "the whole answer", None)
    assert (turn.tool_calls[0].status, turn.tool_calls[0].output) == ("done", "42")
    assert store.turn("c1", "m1") == turn
    assert store.turn("c1", "m2") is None
    assert not store.list_conversations()[0].running


def test_a_failed_turn_keeps_its_error(store: ConversationStore) -> None:
    error = TurnError(kind="rate_limited", message="slow down", retryable=True)
    store.record_turn("c1", _turn("m1", "hello", status="failed", error=error, ended_at=3.0))
    assert store.history("c1").turns[0].error == error


def test_turns_keep_the_order_they_came_in_and_updated_at_never_goes_back(
    store: ConversationStore,
) -> None:
    store.add_message("c1", "b", "first", at=100.0, delivered=True)
    store.add_message("c1", "a", "second", at=200.0, delivered=True)
    store.add_message("c2", "z", "other", at=150.0, delivered=True)
    store.record_turn("c1", _turn("b", "first", "late answer", at=50.0))  # clocks differ
    assert [t.turn_id for t in store.history("c1").turns] == ["b", "a"]
    assert store.get_conversation("c1").updated_at == 200.0  # type: ignore[union-attr]
    assert _ids(store) == ["c1", "c2"]
    store.add_message("c2", "y", "newer", at=300.0, delivered=True)
    assert _ids(store) == ["c2", "c1"]
    assert store.list_conversations(limit=1)[0].conversation_id == "c2"


def test_a_custom_title_is_never_replaced_by_a_made_one(store: ConversationStore) -> None:
    store.ensure_conversation("c1", created_at=1.0)
    assert store.history("c1").title == "New conversation"
    store.add_message("c1", "m1", "what is the weather", at=2.0, delivered=True)
    assert store.history("c1").title == "what is the weather"
    store.set_title("c1", "Weather", custom=True)
    store.set_title("c1", "made from a message", custom=False)
    [record] = store.list_conversations()
    assert (record.title, record.title_is_custom) == ("Weather", True)
    store.ensure_conversation("c1", created_at=5.0, title="other")
    assert store.get_conversation("c1").title == "Weather"  # type: ignore[union-attr]
    with pytest.raises(NoSuchConversation):
        store.set_title("nope", "x", custom=True)


def test_text_that_is_not_valid_unicode_is_kept_with_a_replacement_character(
    store: ConversationStore,
) -> None:
    # A lone surrogate (bytes a tool could not decode) has no UTF-8 form.
    call = _call("k1", output="bytes \udc80 here")
    store.record_turn("c1", _turn("m1", "odd \ud800", "reply \udcff", tool_calls=[call]))
    [turn] = store.history("c1").turns
    assert (turn.user_text, turn.reply) == ("odd \ufffd", "reply \ufffd")
    assert turn.tool_calls[0].output == "bytes \ufffd here"
    assert store.history("c1").title == "odd \ufffd"


def test_meta_markers(store: ConversationStore) -> None:
    assert store.get_meta("outbox-imported") is None
    store.set_meta("outbox-imported", "1")
    store.set_meta("outbox-imported", "2")
    assert store.get_meta("outbox-imported") == "2"


# -- search ------------------------------------------------------------------------


@pytest.fixture
def searchable(store: ConversationStore) -> ConversationStore:
    store.record_turn("calc", _turn("m1", "Open the calculator", "Opened.", at=1.0))
    store.record_turn("calc", _turn("m2", "what is 6*7", "It is forty-two", at=2.0))
    store.record_turn("cafe", _turn("m3", "Un café, s'il vous plaît", "Voilà ☕", at=3.0))
    store.record_turn("cjk", _turn("m4", "日本語 で 話して 🙂", "はい", at=4.0))
    store.set_title("cjk", "Japanese practice", custom=True)
    return store


def test_search_finds_words_by_their_start_in_titles_messages_and_replies(
    searchable: ConversationStore,
) -> None:
    assert _ids(searchable, "calc") == ["calc"]
    assert _ids(searchable, "FORTY") == ["calc"]  # a reply, any case
    assert _ids(searchable, "japan") == ["cjk"]  # a title
    assert _ids(searchable, "cafe") == ["cafe"]  # accents ignored
    assert _ids(searchable, "voila") == ["cafe"]
    assert _ids(searchable, "日本") == ["cjk"]
    assert _ids(searchable, "🙂") == ["cjk"]
    assert _ids(searchable, "alculator") == []  # the start of a word, not its middle


def test_search_wants_every_word_anywhere_in_the_conversation(
    searchable: ConversationStore,
) -> None:
    assert _ids(searchable, "calculator forty") == ["calc"]  # two different turns
    assert _ids(searchable, "calculator café") == []
    assert _ids(searchable, "") == ["cjk", "cafe", "calc"]
    assert _ids(searchable, "   ") == ["cjk", "cafe", "calc"]


ALL = ["cjk", "cafe", "calc"]


@pytest.mark.parametrize(
    ("query", "found"),
    [('"calc', ["calc"]), ("calc*", ["calc"]), ("(calc", ["calc"]), ("calc)", ["calc"]),
     ("^calc", ["calc"]), ("-calc", ["calc"]), ("{calc}", ["calc"]), ("calc +", ["calc"]),
     ("calc AND", []), ("AND", []), ("OR NOT", []), ("NEAR(calc opened)", []),
     ("user_text:calc", []), ("calc\x00", ["calc"]),
     ('"', ALL), ("'", ALL), ("\\", ALL), ("*", ALL), ("%_", ALL), ("*** -- ?", ALL)],
)  # fmt: skip
def test_search_text_is_plain_words_never_query_syntax(
    searchable: ConversationStore, query: str, found: list[str]
) -> None:
    # "AND" is a word to look for like any other; a "word" of punctuation alone
    # filters nothing, as spaces do not.
    assert _ids(searchable, query) == found


def test_search_follows_edits_and_renames(searchable: ConversationStore) -> None:
    searchable.record_turn("calc", _turn("m2", "what is 6*7", "Forty-three, sorry", at=2.0))
    assert _ids(searchable, "two") == []
    assert _ids(searchable, "three") == ["calc"]
    searchable.set_title("cafe", "Paris trip", custom=True)
    assert _ids(searchable, "paris") == ["cafe"]


# -- reading -----------------------------------------------------------------------


def test_history_pages_back_from_the_newest_turns(store: ConversationStore) -> None:
    for i in range(10):
        store.record_turn("c1", _turn(f"t{i}", f"question {i}", f"answer {i}", at=i + 1.0))
    page = store.history("c1", last=3)
    assert [t.turn_id for t in page.turns] == ["t7", "t8", "t9"]
    assert page.earlier_turns == 7
    older = store.history("c1", last=3, before="t7")
    assert [t.turn_id for t in older.turns] == ["t4", "t5", "t6"]
    assert older.earlier_turns == 4
    oldest = store.history("c1", last=50, before="t2")
    assert ([t.turn_id for t in oldest.turns], oldest.earlier_turns) == (["t0", "t1"], 0)
    whole = store.history("c1")
    assert (len(whole.turns), whole.earlier_turns, whole.runs) == (10, 0, 1)
    assert (whole.created_at, whole.updated_at) == (1.0, 12.0)
    with pytest.raises(NoSuchConversation):
        store.history("c1", before="no-such-turn")


def test_an_unknown_conversation(store: ConversationStore) -> None:
    assert store.get_conversation("nope") is None
    for read in (store.history, store.export_conversation, store.unfinished_turns):
        with pytest.raises(NoSuchConversation):
            read("nope")
    with pytest.raises(NoSuchConversation):
        store.record_tool_call("nope", "m1", _call("k1"))
    assert not store.delete_conversation("nope")


def test_the_running_turn_and_the_model(store: ConversationStore) -> None:
    store.record_turn("c1", _turn("m1", "one", "done"), model="gpt-x", provider="openai")
    store.record_turn("c1", _turn("m2", "two", status="running", started_at=5.0))
    store.add_message("c1", "m3", "three", at=6.0, delivered=True)
    store.set_context_start("c1", "m2")
    view = store.history("c1")
    assert (view.running_turn_id, view.model, view.provider) == ("m2", "gpt-x", "openai")
    assert view.context_starts_at == "m2"
    assert [t.turn_id for t in store.unfinished_turns("c1")] == ["m2", "m3"]


def test_a_long_tool_output_is_kept_whole_beside_its_preview(store: ConversationStore) -> None:
    store.record_turn("c1", _turn("m1", "read the log", status="running", started_at=1.0))
    whole = "line of the log\n" * 5_000
    store.record_tool_call("c1", "m1", _call("k1", output=whole[:100]), full_output=whole)
    # The workflow's own record of the call later does not name the blob: kept.
    record = _turn("m1", "read the log", "done", tool_calls=[_call("k1", output=whole[:100])])
    store.record_turn("c1", record)
    [call] = store.history("c1").turns[0].tool_calls
    assert (call.output, call.output_bytes) == (whole[:100], len(whole))
    assert call.output_blob is not None
    assert store.get_blob(call.output_blob) == whole.encode()
    assert store.export_conversation("c1").turns[0].tool_calls[0].output == whole
    short = _call("k2", output="all of it")
    store.record_tool_call("c1", "m1", short, full_output="all of it")
    assert store.history("c1").turns[0].tool_calls[1].output_blob is None
    assert store.put_blob(b"attachment") == store.put_blob(b"attachment")


# -- the model's context -------------------------------------------------------------


def _items(n: int, size: int) -> list[dict]:
    return [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": "x" * size}]


def test_context_is_the_newest_whole_turns_that_fit_the_budget(
    store: ConversationStore,
) -> None:
    for n in range(4):
        store.record_turn("c1", _turn(f"t{n}", f"q{n}", "a"), items=_items(n, 400))
    store.add_message("c1", "t4", "the next question", at=9.0, delivered=True)
    per_turn = len(str(_items(0, 400))) // 4  # about 110 tokens each
    items, starts = store.context_items("c1", budget_tokens=per_turn * 2 + 10)
    assert (starts, [i["content"] for i in items if i["role"] == "user"]) == ("t2", ["q2", "q3"])
    items, starts = store.context_items("c1", budget_tokens=100_000)
    assert (starts, len(items)) == (None, 8)
    items, starts = store.context_items("c1", budget_tokens=10)
    assert (items, starts) == ([], "t4")  # nothing fits: it starts at the turn about to run


def test_a_turn_kept_without_items_is_seen_as_its_message_and_reply(
    store: ConversationStore,
) -> None:
    """As the workflow keeps the context: a failed turn with no reply adds nothing
    (the model never answered it), one cut off by a limit adds what it said."""
    store.record_turn("c1", _turn("t0", "hello", "hi there"))
    store.record_turn("c1", _turn("t1", "fail", status="failed", ended_at=3.0))
    store.record_turn("c1", _turn("t2", "cut", "partly", status="failed", ended_at=4.0))
    store.record_turn("c1", _turn("t3", "still running", status="running"))
    assert store.context_items("c1", 1000) == (
        [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi there"},
            {"role": "user", "content": "cut"},
            {"role": "assistant", "content": "partly"},
        ],
        None,
    )


# -- deleting, export and import -------------------------------------------------------


def test_deleting_a_conversation_leaves_nothing_of_it(store: ConversationStore) -> None:
    whole = "secret output " * 1000
    store.record_turn("c1", _turn("m1", "find the secret", "found it"))
    store.record_tool_call("c1", "m1", _call("k1", output="secret"), full_output=whole)
    store.record_turn("c2", _turn("m2", "also secret", "yes"))
    store.record_tool_call("c2", "m2", _call("k2", output="secret"), full_output=whole + "!")
    blob = store.history("c1").turns[0].tool_calls[0].output_blob
    assert blob is not None
    assert store.delete_conversation("c1")
    assert not store.delete_conversation("c1")
    assert store.get_conversation("c1") is None
    assert _ids(store, "secret") == ["c2"]
    assert _ids(store, "found") == []
    assert store.get_blob(blob) is None
    assert store.history("c2").turns[0].tool_calls[0].output_blob is not None
    store.add_message("c1", "m9", "a new start", at=50.0, delivered=True)
    assert [t.turn_id for t in store.history("c1").turns] == ["m9"]


def test_a_blob_two_conversations_share_stays_until_both_are_gone(
    store: ConversationStore,
) -> None:
    whole = "same output " * 1000
    for cid in ("c1", "c2"):
        store.record_turn(cid, _turn(f"{cid}-m", "q", "a"))
        store.record_tool_call(cid, f"{cid}-m", _call(f"{cid}-k", output="s"), full_output=whole)
    blob = store.history("c1").turns[0].tool_calls[0].output_blob
    store.delete_conversation("c1")
    assert store.get_blob(blob or "") == whole.encode()
    store.delete_conversation("c2")
    assert store.get_blob(blob or "") is None


def _full_conversation(store: ConversationStore) -> ExportedConversation:
    first = _turn("m1", "read it", "read", tool_calls=[_call("k1")])
    items = [{"role": "user", "content": "read it"}]
    store.record_turn("c1", first, items=items, model="gpt", provider="openai")
    # The preview as long as an import makes it, for the histories to compare equal.
    preview = "a" * IMPORT_PREVIEW_CHARS
    store.record_tool_call("c1", "m1", _call("k2", output=preview), full_output="a" * 5000)
    error = TurnError(kind="timeout", message="took too long")
    store.record_turn("c1", _turn("m2", "again", status="failed", error=error, ended_at=9.0))
    store.add_message("c1", "m3", "and again", at=10.0, delivered=True)
    store.set_title("c1", "Reading", custom=True)
    store.set_context_start("c1", "m2")
    return store.export_conversation("c1")


def test_export_then_import_gives_the_same_conversation(
    store: ConversationStore, tmp_path: Path
) -> None:
    exported = _full_conversation(store)
    assert exported.turns[0].tool_calls[1].output == "a" * 5000
    with ConversationStore(tmp_path / "other.db") as other:
        other.import_conversation(exported)
        assert other.export_conversation("c1") == exported
        assert other.history("c1") == store.history("c1")
        assert other.list_conversations() == store.list_conversations()
        other.import_conversation(exported)
        assert other.export_conversation("c1") == exported
        assert other.history("c1").turns == store.history("c1").turns


def test_bulk_import_takes_many_at_once(store: ConversationStore, tmp_path: Path) -> None:
    exported = _full_conversation(store)
    copies = [exported.model_copy(update={"conversation_id": f"copy-{i}"}) for i in range(3)]
    with ConversationStore(tmp_path / "other.db") as other:
        other.bulk_import(copies)
        assert sorted(_ids(other, "reading")) == ["copy-0", "copy-1", "copy-2"]


def test_opening_a_second_store_leaves_the_first_ones_locks_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POSIX locks are per process: a descriptor of the database file opened and closed
    outside SQLite drops the locks of every connection the process has on it, and
    another process's writes then corrupt the file (seen in the fault matrix, where a
    window holds two stores). Only a new file is ever opened that way."""
    from backend.client import store as store_module

    path = tmp_path / "conversations.db"
    first = ConversationStore(path)
    opened: list[str] = []
    real = store_module.private_opener

    def recording(name: str, flags: int) -> int:
        fd = real(name, flags)  # raises for an existing file when it must be new
        opened.append(name)
        return fd

    monkeypatch.setattr(store_module, "private_opener", recording)
    second = ConversationStore(path)
    try:
        assert opened == []  # no descriptor of the existing file was opened
        second.add_message("c1", "m1", "hello", at=1.0, delivered=True)
        assert [c.conversation_id for c in first.list_conversations()] == ["c1"]
    finally:
        second.close()
        first.close()


def test_a_waiting_call_is_listed_until_decided_or_its_turn_ends(
    store: ConversationStore,
) -> None:
    from backend.workflows.conversation_types import PendingApproval

    running = _turn("t1", "go", status="running", started_at=2.0)
    store.record_turn("c1", running)
    asks = [
        PendingApproval(
            conversation_id="c1",
            turn_id="t1",
            call_id=f"call{n}",
            tool="append_line",
            server="files",
            arguments='{"text": "x"}',
            requested_at=10.0 + n,
        )
        for n in (1, 2)
    ]
    for pending in [*asks, asks[0]]:  # a replayed request is written once
        store.add_approval(pending)
    assert store.pending_approvals() == asks
    assert store.pending_approvals("other") == []
    store.remove_approval("c1", "call1")
    assert store.pending_approvals("c1") == [asks[1]]
    waiting = _call("call2", output=None, status="waiting").model_copy(update={"server": "files"})
    store.record_turn("c1", running.model_copy(update={"tool_calls": [waiting]}))
    assert store.pending_approvals() == [asks[1]]  # still running: still waiting
    denied = waiting.model_copy(update={"status": "denied", "error": "denied by the user"})
    store.record_turn("c1", _turn("t1", "go", "ok", tool_calls=[denied]))
    assert store.pending_approvals() == []  # the turn ended: nothing waits
    (call,) = store.history("c1").turns[0].tool_calls
    assert (call.status, call.server) == ("denied", "files")
    store.add_approval(asks[0].model_copy(update={"conversation_id": "deleted"}))
    assert store.pending_approvals() == []  # a conversation deleted meanwhile asks nothing
