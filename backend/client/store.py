"""The conversation store: every conversation DuraChat has held, for ever.

One SQLite file in the data dir (``conversations.db``, 0600, WAL) holds each
conversation's turns, tool calls, usage, errors and title; large tool outputs sit
beside them by content hash. The worker writes finished (and running) turns into
it with idempotent calls, so a retried or replayed write is harmless; the window
and the CLI read it directly, so listing, searching, history and export work in
milliseconds with no worker running. Several processes may use one file at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from backend.client.errors import NoSuchConversation, StoreError
from backend.client.store_schema import (
    CREATE_MIGRATIONS_TABLE,
    LATEST_VERSION,
    MIGRATIONS,
    OPEN_STATUSES_SQL,
    TURN_KEY_SHIFT,
)
from backend.client.store_types import (
    ConversationRecord,
    ExportedConversation,
    ExportedTurn,
    HeldMessage,
)
from backend.local.private_files import private_opener
from backend.workflows.conversation_types import (
    ConversationView,
    PendingApproval,
    ToolCallRecord,
    Turn,
    TurnError,
    title_from,
)

STORE_FILE = "conversations.db"
BUSY_TIMEOUT_S = 10.0
UNTITLED = "New conversation"
# An imported tool output that had been cut keeps this much in its record (the
# preview a history shows); the whole of it goes to the blobs.
IMPORT_PREVIEW_CHARS = 2_000

# How far a turn or a tool call has got: a write never takes one back to an
# earlier stage (it is a late or replayed write of an older state).
_TURN_STAGE = {"queued": 0, "running": 1, "done": 2, "failed": 2, "stopped": 2}
_CALL_STAGE = {"waiting": 0, "running": 0, "done": 1, "error": 1, "denied": 1}

# SQLite's primary result codes (sqlite3 exceptions carry the extended one).
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14

# A row of the list, in the order of _RECORD_FIELDS (0/1 integers validate as bools).
_CONVERSATION_COLUMNS = (
    f"c.conversation_id, CASE WHEN c.title = '' THEN '{UNTITLED}' ELSE c.title END,"
    " c.title_is_custom, c.created_at, c.updated_at, c.model, c.provider,"
    " c.open_turns > 0, c.turn_count"
)
_RECORD_FIELDS = (
    "conversation_id",
    "title",
    "title_is_custom",
    "created_at",
    "updated_at",
    "model",
    "provider",
    "running",
    "turn_count",
)
_RECORDS = TypeAdapter(list[ConversationRecord])
_TURN_COLUMNS = (
    "turn_id, seq, user_text, status, reply, reasoning, error_kind, error_message,"
    " error_retryable, input_tokens, output_tokens, queued_at, started_at, ended_at"
)
_CALL_COLUMNS = (
    "c.turn_id, c.call_id, c.name, c.arguments, c.status, c.output, c.error, c.attempts,"
    " c.started_at, c.ended_at, c.duration_ms, c.output_blob, c.output_bytes, c.server"
)
_OPEN = OPEN_STATUSES_SQL
_FINISHED = "('done', 'failed', 'stopped')"


class ConversationStore:
    """The conversation store on one file. Thread-safe; several processes may open
    the same file. Every method raises StoreError when the file cannot be read or
    written, with one line saying why."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = self._open()

    @classmethod
    def in_data_dir(cls, root: Path) -> ConversationStore:
        return cls(Path(root) / STORE_FILE)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ---------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            # Made 0600 before SQLite opens it, whatever the umask: SQLite then gives
            # its -wal and -shm files the same mode. Only ever a new file: closing any
            # descriptor of a database file drops every POSIX lock this process's
            # connections hold on it (they are per process), and another process's
            # writes then corrupt it.
            os.close(private_opener(str(self.path), os.O_RDWR | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise StoreError(f"cannot open the conversation store {self.path}: {why}") from None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
            self._make_sidecars_private()
            return conn
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from None
            raise

    def _make_sidecars_private(self) -> None:
        """SQLite makes -wal and -shm with the database's mode; this only takes group
        and other access away from files an older run or another tool left open
        (by path: see _open for why never through a descriptor)."""
        for suffix in ("", "-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):
                if side.stat().st_mode & 0o077:
                    side.chmod(0o600)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        applied = _applied_versions(conn)
        newest = max(applied, default=0)
        if newest > LATEST_VERSION:
            raise StoreError(
                f"the conversation store {self.path} was made by a newer DuraChat (schema "
                f"version {newest}, this one knows up to {LATEST_VERSION}); update DuraChat"
            )
        for version, statements in MIGRATIONS:
            if version in applied:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(CREATE_MIGRATIONS_TABLE)
                # Another process may have applied it while this one waited for the lock.
                if version not in _applied_versions(conn):
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        (version, time.time()),
                    )
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    # -- transactions and errors -----------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock. A write takes SQLite's write lock at once
        (IMMEDIATE), so it waits for another process's write instead of failing
        half-way when it upgrades from reading."""
        with self._lock:
            db = self._conn
            if db is None:
                raise StoreError(f"the conversation store {self.path} is closed")
            try:
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._transaction(write=True)

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._transaction(write=False)

    def _error(self, exc: sqlite3.Error) -> StoreError:
        """The one line a user can act on for what SQLite said."""
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        where = f"the conversation store {self.path}"
        if primary == _SQLITE_FULL:
            return StoreError(f"the disk holding {where} is full; free some space and try again")
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return StoreError(
                f"{where} is damaged ({exc}); restore it from a backup, or move it "
                "aside to start with an empty one"
            )
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return StoreError(
                f"{where} stayed locked by another DuraChat process for "
                f"{BUSY_TIMEOUT_S:g} s; try again"
            )
        if primary == _SQLITE_READONLY:
            return StoreError(f"cannot write to {where}: it is read-only")
        if primary == _SQLITE_CANTOPEN:
            return StoreError(f"cannot open {where} ({exc})")
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            return StoreError(f"{where} is closed")
        return StoreError(f"{where} failed: {exc}")

    # -- writes ------------------------------------------------------------------

    def add_message(
        self, conversation_id: str, message_id: str, text: str, *, at: float, delivered: bool
    ) -> bool:
        """Keep a message the user sent, before it goes anywhere. False when it was
        already kept (a resend): nothing changes then."""
        with self._write() as db:
            _insert_conversation(db, conversation_id, created_at=at, title=title_from(text))
            if _turn_key(db, conversation_id, message_id) is not None:
                return False
            db.execute(
                "INSERT INTO turns (id, seq, conversation_id, turn_id, user_text, status,"
                " queued_at, delivered) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (
                    *_new_turn_key(db, conversation_id),
                    conversation_id,
                    message_id,
                    _text(text),
                    at,
                    int(delivered),
                ),
            )
            _title_if_untitled(db, conversation_id, text)
            _touch(db, conversation_id, at)
            _refresh_counts(db, conversation_id)
            return True

    def mark_delivered(self, message_id: str) -> None:
        """The backend has taken the message: it leaves the outbox."""
        with self._write() as db:
            # Found among the few undelivered turns (their own index), by row id: a
            # planner left to choose may walk the turn-id index of every conversation.
            ids = [
                (r[0],)
                for r in db.execute("SELECT id, turn_id FROM turns WHERE delivered = 0")
                if r[1] == message_id
            ]
            db.executemany("UPDATE turns SET delivered = 1 WHERE id = ?", ids)

    def undelivered(self) -> list[HeldMessage]:
        """Messages the backend has not taken yet, oldest first (the order they were sent)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT conversation_id, turn_id, user_text, queued_at FROM turns"
                " WHERE delivered = 0 ORDER BY queued_at, seq"
            ).fetchall()
        return [
            HeldMessage(conversation_id=r[0], message_id=r[1], text=r[2], held_at=r[3])
            for r in rows
        ]

    def discard_held(self, message_id: str) -> None:
        """Forget a message the backend never took (refused for good, say): its turn
        goes, and its conversation too when nothing else is left in it."""
        with self._write() as db:
            held = [
                (r[0], r[1])
                for r in db.execute(
                    "SELECT id, conversation_id, turn_id FROM turns WHERE delivered = 0"
                )
                if r[2] == message_id
            ]
            for row_id, conversation_id in held:
                db.execute("DELETE FROM turns WHERE id = ?", (row_id,))
                _refresh_counts(db, conversation_id)
                db.execute(
                    "DELETE FROM conversations WHERE conversation_id = ? AND turn_count = 0",
                    (conversation_id,),
                )

    def record_turn(
        self,
        conversation_id: str,
        turn: Turn,
        *,
        items: list[dict[str, Any]] | None = None,
        model: str | None = None,
        provider: str | None = None,
    ) -> None:
        """Keep a turn as it is now, with its tool calls; ``items`` (the model-context
        items it added), ``model`` and ``provider`` are kept as they were when None.
        A finished turn is never taken back to queued or running by a late write."""
        with self._write() as db:
            at = turn.ended_at or turn.started_at or turn.queued_at
            _insert_conversation(
                db,
                conversation_id,
                created_at=turn.queued_at or at or time.time(),
                title=title_from(turn.user_text),
            )
            inserted = _write_turn(db, conversation_id, turn, items, model, provider)
            if inserted is None:
                return  # an older state of a turn the store has further along
            if inserted:
                _title_if_untitled(db, conversation_id, turn.user_text)
            for call in turn.tool_calls:
                _write_call(db, conversation_id, turn.turn_id, call, None)
            if turn.status in ("done", "failed", "stopped"):
                db.execute(  # a call still waiting when its turn ended (Stop) waits no more
                    "DELETE FROM approvals WHERE conversation_id = ? AND turn_id = ?",
                    (conversation_id, turn.turn_id),
                )
            if at:
                _touch(db, conversation_id, at)
            if model is not None or provider is not None:
                db.execute(
                    "UPDATE conversations SET model = COALESCE(?, model),"
                    " provider = COALESCE(?, provider) WHERE conversation_id = ?",
                    (model, provider, conversation_id),
                )
            _refresh_counts(db, conversation_id)

    def record_tool_call(
        self,
        conversation_id: str,
        turn_id: str,
        call: ToolCallRecord,
        *,
        full_output: str | None = None,
    ) -> None:
        """Keep a tool call of a turn the store has. ``full_output``, when longer than
        ``call.output`` (the preview), is kept whole in the blobs."""
        with self._write() as db:
            if _turn_key(db, conversation_id, turn_id) is None:
                raise NoSuchConversation(
                    f"no turn {turn_id} in the conversation {conversation_id} of the store"
                )
            _write_call(db, conversation_id, turn_id, call, full_output)

    def add_approval(self, pending: PendingApproval) -> None:
        """Note a call that waits for the user (kept until decided or its turn ends)."""
        with self._write() as db:
            if not _exists(db, pending.conversation_id):
                return  # deleted meanwhile: nobody is left to ask
            db.execute(
                "INSERT INTO approvals (conversation_id, turn_id, call_id, tool, server,"
                " arguments, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (conversation_id, call_id) DO NOTHING",
                (
                    pending.conversation_id,
                    pending.turn_id,
                    pending.call_id,
                    _text(pending.tool),
                    pending.server,
                    _text(pending.arguments),
                    pending.requested_at,
                ),
            )

    def remove_approval(self, conversation_id: str, call_id: str) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM approvals WHERE conversation_id = ? AND call_id = ?",
                (conversation_id, call_id),
            )

    def pending_approvals(self, conversation_id: str | None = None) -> list[PendingApproval]:
        """Calls waiting for the user, oldest first (of one conversation, or all)."""
        where, args = ("", ())
        if conversation_id:
            where, args = "WHERE conversation_id = ?", (conversation_id,)
        with self._read() as db:
            rows = db.execute(
                "SELECT conversation_id, turn_id, call_id, tool, server, arguments, requested_at"
                f" FROM approvals {where} ORDER BY requested_at",
                args,
            ).fetchall()
        return [PendingApproval(**dict(r)) for r in rows]

    def ensure_conversation(
        self,
        conversation_id: str,
        *,
        created_at: float,
        title: str = "",
        title_is_custom: bool = False,
    ) -> None:
        """Make the conversation if the store does not have it; else change nothing."""
        with self._write() as db:
            _insert_conversation(
                db, conversation_id, created_at=created_at, title=title, custom=title_is_custom
            )

    def set_title(self, conversation_id: str, title: str, *, custom: bool) -> None:
        """A title the user chose (custom) is never replaced by one made from a message."""
        with self._write() as db:
            _require_conversation(db, conversation_id)
            db.execute(
                "UPDATE conversations SET title = ?, title_is_custom = ?"
                " WHERE conversation_id = ? AND (? = 1 OR title_is_custom = 0)",
                (_text(title), int(custom), conversation_id, int(custom)),
            )

    def set_context_start(self, conversation_id: str, turn_id: str | None) -> None:
        """Where the model's context began at the last reply (None: the first turn)."""
        with self._write() as db:
            _require_conversation(db, conversation_id)
            db.execute(
                "UPDATE conversations SET context_starts_at = ? WHERE conversation_id = ?",
                (turn_id, conversation_id),
            )

    def put_blob(self, data: bytes) -> str:
        """Keep ``data`` by its SHA-256 (hex), which is returned."""
        with self._write() as db:
            return _put_blob(db, data)

    def get_blob(self, blob_hash: str) -> bytes | None:
        with self._read() as db:
            row = db.execute("SELECT data FROM blobs WHERE hash = ?", (blob_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def delete_conversation(self, conversation_id: str) -> bool:
        """Delete it with all its turns, tool calls and the blobs only it used.
        False when the store has no such conversation."""
        with self._write() as db:
            if not _exists(db, conversation_id):
                return False
            hashes = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT output_blob FROM tool_calls"
                    " WHERE conversation_id = ? AND output_blob IS NOT NULL",
                    (conversation_id,),
                )
            ]
            # Turns and tool calls go by ON DELETE CASCADE, search entries by trigger.
            db.execute("DELETE FROM conversations WHERE conversation_id = ?", (conversation_id,))
            _drop_unused_blobs(db, hashes)
            return True

    def get_meta(self, key: str) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- reads -------------------------------------------------------------------

    def list_conversations(
        self, search: str = "", limit: int | None = None
    ) -> list[ConversationRecord]:
        """Most recently updated first. ``search``: only conversations where every
        word of it starts a word of the title or of some message (case and accents
        ignored); the text is taken as plain words, never as a query language."""
        words = search_words(search)
        where, params = _matching_clause(words) if words else ("", [])
        sql = (
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c {where}"
            " ORDER BY c.updated_at DESC, c.id DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return _records(rows)

    def list_rows(
        self, search: str = "", limit: int | None = None
    ) -> list[tuple[str, str, float, bool]]:
        """As ``list_conversations``, each as (id, title, updated_at, running) only: the
        conversation list's hot path, without a model object per row (10,000 of them
        cost more than the query)."""
        words = search_words(search)
        where, params = _matching_clause(words) if words else ("", [])
        sql = (
            f"SELECT c.conversation_id, CASE WHEN c.title = '' THEN '{UNTITLED}'"
            " ELSE c.title END, c.updated_at, c.open_turns > 0"
            f" FROM conversations c {where} ORDER BY c.updated_at DESC, c.id DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: the cheapest rows there are
            return cursor.execute(sql, params).fetchall()

    def get_conversation(self, conversation_id: str) -> ConversationRecord | None:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
        return None if row is None else _records([row])[0]

    def history(
        self, conversation_id: str, *, last: int | None = None, before: str | None = None
    ) -> ConversationView:
        """The conversation as the window shows it: its turns in order, or only the
        newest ``last`` of them (those before the turn ``before`` when given)."""
        with self._read() as db:
            conv = _require_conversation(db, conversation_id)
            upper = None if before is None else _turn_seq(db, conversation_id, before)
            rows = _turn_rows(db, conversation_id, last=last, before_seq=upper)
            first_seq = rows[0]["seq"] if rows else upper
            earlier = _count_turns(db, conversation_id, below=first_seq)
            turns = _turns_with_calls(db, conversation_id, rows)
            running = _first_running(db, conversation_id)
        return ConversationView(
            conversation_id=conversation_id,
            title=conv["title"] or UNTITLED,
            created_at=conv["created_at"],
            updated_at=conv["updated_at"],
            running_turn_id=running,
            turns=turns,
            runs=1,
            context_starts_at=conv["context_starts_at"],
            earlier_turns=earlier,
            model=conv["model"],
            provider=conv["provider"],
        )

    def turn(self, conversation_id: str, turn_id: str) -> Turn | None:
        """One turn with its tool calls; None when the store does not have it."""
        with self._read() as db:
            row = db.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_id = ? AND turn_id = ?",
                (conversation_id, turn_id),
            ).fetchone()
            if row is None:
                return None
            return _turns_with_calls(db, conversation_id, [row])[0]

    def unfinished_turns(self, conversation_id: str) -> list[Turn]:
        """Turns the backend has taken but not finished (queued or running), in order."""
        with self._read() as db:
            _require_conversation(db, conversation_id)
            rows = db.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_id = ?"
                f" AND status IN {_OPEN} AND delivered = 1 ORDER BY seq",
                (conversation_id,),
            ).fetchall()
            return _turns_with_calls(db, conversation_id, rows)

    def context_items(
        self, conversation_id: str, budget_tokens: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The model context a new run starts from: the items of the newest finished
        turns, whole turns only, as many as fit ``budget_tokens`` (about four
        characters of JSON to a token), oldest first; and the id of the first turn
        included, None when nothing before it was left out. When not even the newest
        turn fits, the items are empty and the id is that of the turn after it (the
        one about to run), if the store has one."""
        taken, starts = self._context(conversation_id, budget_tokens)
        return [item for _, items in taken for item in items], starts

    def turns_context(
        self, conversation_id: str, turn_ids: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The model-context items of these finished turns, by turn id (a turn the
        store does not hold as finished is left out): what a model call's references
        to earlier turns stand for (see backend/workflows/model_context.py)."""
        found: dict[str, list[dict[str, Any]]] = {}
        wanted = list(dict.fromkeys(turn_ids))
        with self._read() as db:
            # In chunks: SQLite caps the parameters of one statement.
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for row in db.execute(
                    "SELECT turn_id, status, user_text, reply, items FROM turns"
                    f" WHERE conversation_id = ? AND status IN {_FINISHED}"
                    f" AND turn_id IN ({marks})",
                    (conversation_id, *chunk),
                ):
                    found[row["turn_id"]] = _context_of(row)[0]
        return found

    def context_turns(
        self, conversation_id: str, budget_tokens: int
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        """As ``context_items``, turn by turn (oldest first): the model's context a new
        run carries, so that it can later let go of its oldest turns one at a time."""
        return self._context(conversation_id, budget_tokens)[0]

    def _context(
        self, conversation_id: str, budget_tokens: int
    ) -> tuple[list[tuple[str, list[dict[str, Any]]]], str | None]:
        with self._read() as db:
            _require_conversation(db, conversation_id)
            taken: list[tuple[int, str, list[dict[str, Any]]]] = []
            used = 0
            newest_seq: int | None = None
            for row in db.execute(
                "SELECT turn_id, seq, status, user_text, reply, items FROM turns"
                f" WHERE conversation_id = ? AND status IN {_FINISHED} ORDER BY seq DESC",
                (conversation_id,),
            ):
                newest_seq = row["seq"] if newest_seq is None else newest_seq
                items, size = _context_of(row)
                if used + size // 4 > budget_tokens:
                    break
                used += size // 4
                taken.append((row["seq"], row["turn_id"], items))
            if not taken:
                starts = (
                    None if newest_seq is None else _turn_after(db, conversation_id, newest_seq)
                )
                return [], starts
            first_seq, first_id, _ = taken[-1]
            earlier = _count_turns(db, conversation_id, below=first_seq)
        taken.reverse()
        return [(turn_id, items) for _, turn_id, items in taken], (first_id if earlier else None)

    # -- export and import -------------------------------------------------------

    def export_conversation(self, conversation_id: str) -> ExportedConversation:
        """Everything the store keeps of a conversation, tool outputs whole."""
        with self._read() as db:
            conv = _require_conversation(db, conversation_id)
            rows = db.execute(
                f"SELECT {_TURN_COLUMNS}, items, model, provider FROM turns"
                " WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
            calls = _calls_by_turn(db, conversation_id, rows, whole=True)
        turns = [
            ExportedTurn(
                **_turn_fields(r),
                tool_calls=calls.get(r["turn_id"], []),
                items=json.loads(r["items"]),
                model=r["model"],
                provider=r["provider"],
            )
            for r in rows
        ]
        return ExportedConversation(
            conversation_id=conversation_id,
            title=conv["title"],
            title_is_custom=bool(conv["title_is_custom"]),
            created_at=conv["created_at"],
            updated_at=conv["updated_at"],
            model=conv["model"],
            provider=conv["provider"],
            context_starts_at=conv["context_starts_at"],
            turns=turns,
        )

    def import_conversation(self, conv: ExportedConversation) -> None:
        """Take in an exported conversation; importing it again changes nothing."""
        self.bulk_import([conv])

    def bulk_import(self, conversations: Iterable[ExportedConversation]) -> None:
        """Import many conversations in one transaction (all or none)."""
        with self._write() as db:
            for conv in conversations:
                _import(db, conv)


# -- search (the only SQLite-specific reading: FTS5) ------------------------------


def search_words(text: str) -> list[str]:
    """The words of a search, as typed; a "word" with no letter, digit or symbol
    (``***``, ``-``) would match nothing in the index and is left out."""
    # FTS5 reads its query as a C string: a NUL would end it inside a quote.
    words = text.replace("\x00", " ").split()
    return [word for word in words if any(_makes_words(ch) for ch in word)]


def _makes_words(ch: str) -> bool:
    # The index's tokenizer's categories (store_schema.FTS_TOKENIZER).
    category = unicodedata.category(ch)
    return category[0] in "LN" or category in ("Co", "So")


def _fts_prefix(word: str) -> str:
    """A word as an FTS5 prefix query, quoted: whatever it holds (quotes, AND, *,
    parentheses, NEAR, ^) is text to look for, never query syntax."""
    return '"' + word.replace('"', '""') + '"*'


def _matching_clause(words: Sequence[str]) -> tuple[str, list[Any]]:
    """A WHERE clause on ``conversations c``: each word starts a word of the title
    or of some turn's message or reply (each word may be in a different turn)."""
    clauses: list[str] = []
    params: list[Any] = []
    for word in words:
        clauses.append(
            "(c.id IN (SELECT rowid FROM titles_fts WHERE titles_fts MATCH ?)"
            f" OR c.id IN (SELECT rowid >> {TURN_KEY_SHIFT} FROM turns_fts"
            " WHERE turns_fts MATCH ?))"
        )
        query = _fts_prefix(word)
        params += [query, query]
    return "WHERE " + " AND ".join(clauses), params


# -- helpers on an open transaction ------------------------------------------------


def _applied_versions(conn: sqlite3.Connection) -> set[int]:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if has_table is None:
        return set()
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}


def _exists(db: sqlite3.Connection, conversation_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM conversations WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()
    return row is not None


def _require_conversation(db: sqlite3.Connection, conversation_id: str) -> sqlite3.Row:
    row = db.execute(
        "SELECT title, title_is_custom, created_at, updated_at, model, provider,"
        " context_starts_at FROM conversations WHERE conversation_id = ?",
        (conversation_id,),
    ).fetchone()
    if row is None:
        raise NoSuchConversation(f"no such conversation: {conversation_id}")
    return row


def _insert_conversation(
    db: sqlite3.Connection,
    conversation_id: str,
    *,
    created_at: float,
    title: str,
    custom: bool = False,
) -> None:
    db.execute(
        "INSERT INTO conversations (conversation_id, title, title_is_custom, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO NOTHING",
        (conversation_id, _text(title), int(custom), created_at, created_at),
    )


def _title_if_untitled(db: sqlite3.Connection, conversation_id: str, text: str) -> None:
    """A conversation made without a title takes it from its first message."""
    db.execute(
        "UPDATE conversations SET title = ?"
        " WHERE conversation_id = ? AND title = '' AND title_is_custom = 0",
        (_text(title_from(text)), conversation_id),
    )


def _touch(db: sqlite3.Connection, conversation_id: str, at: float) -> None:
    """Move updated_at forward to ``at``; never back (a late write of an old turn)."""
    db.execute(
        "UPDATE conversations SET updated_at = ? WHERE conversation_id = ? AND updated_at < ?",
        (at, conversation_id, at),
    )


def _refresh_counts(db: sqlite3.Connection, conversation_id: str) -> None:
    """Recount what the list shows, so listing never has to (both counts walk an
    index: all the conversation's turns, and its few open ones)."""
    db.execute(
        "UPDATE conversations SET"
        " turn_count = (SELECT count(*) FROM turns WHERE conversation_id = ?),"
        " open_turns = (SELECT count(*) FROM turns"
        f" WHERE conversation_id = ? AND status IN {_OPEN})"
        " WHERE conversation_id = ?",
        (conversation_id, conversation_id, conversation_id),
    )


def _turn_key(db: sqlite3.Connection, conversation_id: str, turn_id: str) -> sqlite3.Row | None:
    return db.execute(
        "SELECT seq, status FROM turns WHERE conversation_id = ? AND turn_id = ?",
        (conversation_id, turn_id),
    ).fetchone()


def _turn_seq(db: sqlite3.Connection, conversation_id: str, turn_id: str) -> int:
    row = _turn_key(db, conversation_id, turn_id)
    if row is None:
        raise NoSuchConversation(f"no turn {turn_id} in the conversation {conversation_id}")
    return int(row["seq"])


def _new_turn_key(db: sqlite3.Connection, conversation_id: str) -> tuple[int, int]:
    """The id and seq of a turn about to be added (next in order): see TURN_KEY_SHIFT."""
    row = db.execute(
        "SELECT c.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM turns t"
        "  WHERE t.conversation_id = c.conversation_id)"
        " FROM conversations c WHERE c.conversation_id = ?",
        (conversation_id,),
    ).fetchone()
    seq = int(row[1])
    return (int(row[0]) << TURN_KEY_SHIFT) + seq, seq


def _turn_values(turn: Turn) -> tuple[Any, ...]:
    """The turn's own fields, in the order of _TURN_SET."""
    error = turn.error
    return (
        _text(turn.user_text),
        turn.status,
        _text(turn.reply),
        _text(turn.reasoning),
        error.kind if error else None,
        _text(error.message) if error else None,
        (int(error.retryable) if error else None),
        turn.input_tokens,
        turn.output_tokens,
        turn.queued_at,
        turn.started_at,
        turn.ended_at,
    )


_TURN_SET = (
    "user_text = ?, status = ?, reply = ?, reasoning = ?, error_kind = ?, error_message = ?,"
    " error_retryable = ?, input_tokens = ?, output_tokens = ?, queued_at = ?, started_at = ?,"
    " ended_at = ?"
)


def _write_turn(
    db: sqlite3.Connection,
    conversation_id: str,
    turn: Turn,
    items: list[dict[str, Any]] | None,
    model: str | None,
    provider: str | None,
) -> bool | None:
    """Insert or update a turn (without its tool calls): True when inserted, False
    when updated, None when the store has it further along (and it was left)."""
    known = _turn_key(db, conversation_id, turn.turn_id)
    items_json = None if items is None else _text(json.dumps(items, ensure_ascii=False))
    if known is not None:
        if _TURN_STAGE[known["status"]] > _TURN_STAGE[turn.status]:
            return None
        db.execute(
            f"UPDATE turns SET {_TURN_SET}, delivered = 1, items = COALESCE(?, items),"
            " model = COALESCE(?, model), provider = COALESCE(?, provider)"
            " WHERE conversation_id = ? AND turn_id = ?",
            (*_turn_values(turn), items_json, model, provider, conversation_id, turn.turn_id),
        )
        return False
    db.execute(
        "INSERT INTO turns (id, seq, conversation_id, turn_id, user_text, status, reply,"
        " reasoning, error_kind, error_message, error_retryable, input_tokens, output_tokens,"
        " queued_at, started_at, ended_at, delivered, items, model, provider)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        (
            *_new_turn_key(db, conversation_id),
            conversation_id,
            turn.turn_id,
            *_turn_values(turn),
            items_json or "[]",
            model,
            provider,
        ),
    )
    return True


def _write_call(
    db: sqlite3.Connection,
    conversation_id: str,
    turn_id: str,
    call: ToolCallRecord,
    full_output: str | None,
) -> None:
    known = db.execute(
        "SELECT status, output_blob FROM tool_calls WHERE conversation_id = ? AND call_id = ?",
        (conversation_id, call.call_id),
    ).fetchone()
    if known is not None and _CALL_STAGE[known["status"]] > _CALL_STAGE[call.status]:
        return  # a late write of it while it ran
    blob, size = call.output_blob, call.output_bytes
    if full_output is not None and len(full_output) > len(call.output or ""):
        data = _utf8(full_output)
        blob, size = _put_blob(db, data), len(data)
    values = (
        _text(call.name),
        _text(call.arguments),
        call.status,
        None if call.output is None else _text(call.output),
        None if call.error is None else _text(call.error),
        call.attempts,
        call.started_at,
        call.ended_at,
        call.duration_ms,
        call.server,
    )
    if known is None:
        seq = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM tool_calls"
            " WHERE conversation_id = ? AND turn_id = ?",
            (conversation_id, turn_id),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO tool_calls (conversation_id, turn_id, call_id, seq, name, arguments,"
            " status, output, error, attempts, started_at, ended_at, duration_ms, server,"
            " output_blob, output_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (conversation_id, turn_id, call.call_id, seq, *values, blob, size),
        )
        return
    # A write that does not mention the whole output (the workflow's own record of
    # the call, say) keeps the reference an earlier write left.
    db.execute(
        "UPDATE tool_calls SET name = ?, arguments = ?, status = ?, output = ?, error = ?,"
        " attempts = ?, started_at = ?, ended_at = ?, duration_ms = ?, server = ?,"
        " output_blob = COALESCE(?, output_blob), output_bytes = COALESCE(?, output_bytes)"
        " WHERE conversation_id = ? AND call_id = ?",
        (*values, blob, size, conversation_id, call.call_id),
    )
    if known["output_blob"] and blob and known["output_blob"] != blob:
        _drop_unused_blobs(db, [known["output_blob"]])


def _text(text: str) -> str:
    """Text SQLite can keep: a lone surrogate (bytes a tool could not decode) has no
    UTF-8 form and would fail the whole write, again on every retry; it becomes U+FFFD."""
    if text.isascii():
        return text
    # Through UTF-16, a paired surrogate is joined and each lone one is one U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _utf8(text: str) -> bytes:
    # A tool's output may carry lone surrogates (bytes it could not decode).
    return text.encode("utf-8", "surrogatepass")


def _put_blob(db: sqlite3.Connection, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    db.execute(
        "INSERT INTO blobs (hash, size, data) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
        (digest, len(data), data),
    )
    return digest


def _drop_unused_blobs(db: sqlite3.Connection, hashes: Iterable[str]) -> None:
    for digest in hashes:
        db.execute(
            "DELETE FROM blobs WHERE hash = ?"
            " AND NOT EXISTS (SELECT 1 FROM tool_calls WHERE output_blob = ?)",
            (digest, digest),
        )


def _records(rows: Sequence[sqlite3.Row]) -> list[ConversationRecord]:
    # One validation of the whole list: a third quicker than one per record.
    return _RECORDS.validate_python([dict(zip(_RECORD_FIELDS, r, strict=True)) for r in rows])


def _turn_rows(
    db: sqlite3.Connection, conversation_id: str, *, last: int | None, before_seq: int | None
) -> list[sqlite3.Row]:
    sql = f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_id = ?"
    params: list[Any] = [conversation_id]
    if before_seq is not None:
        sql += " AND seq < ?"
        params.append(before_seq)
    if last is None:
        return db.execute(sql + " ORDER BY seq", params).fetchall()
    rows = db.execute(sql + " ORDER BY seq DESC LIMIT ?", [*params, max(last, 0)]).fetchall()
    rows.reverse()
    return rows


def _count_turns(db: sqlite3.Connection, conversation_id: str, *, below: int | None) -> int:
    """How many turns come before seq ``below`` (all of them when None)."""
    if below is None:
        sql, params = "SELECT count(*) FROM turns WHERE conversation_id = ?", [conversation_id]
    else:
        sql = "SELECT count(*) FROM turns WHERE conversation_id = ? AND seq < ?"
        params = [conversation_id, below]
    return int(db.execute(sql, params).fetchone()[0])


def _first_running(db: sqlite3.Connection, conversation_id: str) -> str | None:
    for row in db.execute(
        f"SELECT turn_id, status FROM turns WHERE conversation_id = ? AND status IN {_OPEN}"
        " ORDER BY seq",
        (conversation_id,),
    ):
        if row["status"] == "running":
            return str(row["turn_id"])
    return None


def _turn_after(db: sqlite3.Connection, conversation_id: str, seq: int) -> str | None:
    row = db.execute(
        "SELECT turn_id FROM turns WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT 1",
        (conversation_id, seq),
    ).fetchone()
    return None if row is None else str(row[0])


def _turn_fields(row: sqlite3.Row) -> dict[str, Any]:
    error = None
    if row["error_kind"] is not None:
        error = TurnError(
            kind=row["error_kind"],
            message=row["error_message"] or "",
            retryable=bool(row["error_retryable"]),
        )
    return {
        "turn_id": row["turn_id"],
        "user_text": row["user_text"],
        "status": row["status"],
        "reply": row["reply"],
        "reasoning": row["reasoning"],
        "error": error,
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "queued_at": row["queued_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
    }


def _turns_with_calls(
    db: sqlite3.Connection, conversation_id: str, rows: Sequence[sqlite3.Row]
) -> list[Turn]:
    calls = _calls_by_turn(db, conversation_id, rows, whole=False)
    return [Turn(**_turn_fields(r), tool_calls=calls.get(r["turn_id"], [])) for r in rows]


def _calls_by_turn(
    db: sqlite3.Connection, conversation_id: str, rows: Sequence[sqlite3.Row], *, whole: bool
) -> dict[str, list[ToolCallRecord]]:
    """The tool calls of the turns ``rows`` (consecutive, in order), by turn id; with
    ``whole``, each output is the whole one from the blobs when it was cut."""
    if not rows:
        return {}
    found: dict[str, list[ToolCallRecord]] = {}
    for r in db.execute(
        f"SELECT {_CALL_COLUMNS}"
        " FROM tool_calls c JOIN turns t"
        " ON t.conversation_id = c.conversation_id AND t.turn_id = c.turn_id"
        " WHERE t.conversation_id = ? AND t.seq BETWEEN ? AND ? ORDER BY t.seq, c.seq",
        (conversation_id, rows[0]["seq"], rows[-1]["seq"]),
    ):
        output = r["output"]
        if whole and r["output_blob"] is not None:
            output = _blob_text(db, r["output_blob"], default=output)
        found.setdefault(r["turn_id"], []).append(
            ToolCallRecord(
                call_id=r["call_id"],
                name=r["name"],
                arguments=r["arguments"],
                status=r["status"],
                output=output,
                error=r["error"],
                attempts=r["attempts"],
                started_at=r["started_at"],
                ended_at=r["ended_at"],
                duration_ms=r["duration_ms"],
                output_blob=r["output_blob"],
                output_bytes=r["output_bytes"],
                server=r["server"],
            )
        )
    return found


def _blob_text(db: sqlite3.Connection, blob_hash: str, *, default: str | None) -> str | None:
    row = db.execute("SELECT data FROM blobs WHERE hash = ?", (blob_hash,)).fetchone()
    return default if row is None else bytes(row[0]).decode("utf-8", "surrogatepass")


def _context_of(row: sqlite3.Row) -> tuple[list[dict[str, Any]], int]:
    """A finished turn's model-context items and the length of their JSON. A turn
    kept without items (imported, or from before the store) is seen as its message
    and its reply."""
    text: str = row["items"]
    items: list[dict[str, Any]] = json.loads(text)
    if items:
        return items, len(text)
    if row["status"] == "failed" and not row["reply"]:
        return [], 0  # the model never saw an answer to it: as the workflow keeps it
    items = [{"role": "user", "content": row["user_text"]}]
    if row["reply"]:
        items.append({"role": "assistant", "content": row["reply"]})
    return items, len(json.dumps(items, ensure_ascii=False))


def _import(db: sqlite3.Connection, conv: ExportedConversation) -> None:
    cid = conv.conversation_id
    db.execute(
        "INSERT INTO conversations (conversation_id, title, title_is_custom, created_at,"
        " updated_at, model, provider, context_starts_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (conversation_id) DO UPDATE SET"
        " title = CASE WHEN conversations.title_is_custom = 1 AND excluded.title_is_custom = 0"
        " THEN conversations.title ELSE excluded.title END,"
        " title_is_custom = CASE WHEN conversations.title_is_custom = 1 THEN 1"
        " ELSE excluded.title_is_custom END,"
        " updated_at = CASE WHEN excluded.updated_at > conversations.updated_at"
        " THEN excluded.updated_at ELSE conversations.updated_at END,"
        " model = COALESCE(excluded.model, conversations.model),"
        " provider = COALESCE(excluded.provider, conversations.provider),"
        " context_starts_at = excluded.context_starts_at",
        (
            cid,
            _text(conv.title),
            int(conv.title_is_custom),
            conv.created_at,
            conv.updated_at,
            conv.model,
            conv.provider,
            conv.context_starts_at,
        ),
    )
    for turn in conv.turns:
        if _write_turn(db, cid, turn, turn.items, turn.model, turn.provider) is None:
            continue
        for call in turn.tool_calls:
            _write_call(db, cid, turn.turn_id, _imported_call(db, call), None)
    _refresh_counts(db, cid)


def _imported_call(db: sqlite3.Connection, call: ToolCallRecord) -> ToolCallRecord:
    """An exported call holds its output whole; one that had been cut (it names a
    blob) goes back to a preview in the record and the whole in the blobs."""
    if call.output is None or (call.output_blob is None and call.output_bytes is None):
        return call
    data = _utf8(call.output)
    return call.model_copy(
        update={
            "output": call.output[:IMPORT_PREVIEW_CHARS],
            "output_blob": _put_blob(db, data),
            "output_bytes": len(data),
        }
    )
