"""The conversation store's schema, as an ordered list of migrations.

A store file records in ``schema_migrations`` every version applied to it; opening
it applies the versions it lacks, each in a transaction of its own, in order. A
migration, once released, is never edited: a change is a new version.

The SQL is kept portable (plain tables, TEXT/INTEGER/REAL/BLOB, ``ON CONFLICT``
upserts, partial indexes): all that is SQLite's own is the full-text index, alone
in its own version, which a PostgreSQL store would replace with a tsvector column.
"""

from __future__ import annotations

from collections.abc import Sequence

# The statuses of a turn not answered yet (of TurnStatus), as SQL: the store's
# queries spell it exactly as the partial index does, so SQLite uses the index.
OPEN_STATUSES_SQL = "('queued', 'running')"

CREATE_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at REAL NOT NULL)"
)

TURN_KEY_SHIFT = 32

_TABLES: Sequence[str] = (
    # ``id`` is a row number that never changes (not even on VACUUM, unlike an
    # implicit rowid), for the search index to point at; the key is conversation_id.
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        title_is_custom INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        model TEXT,
        provider TEXT,
        context_starts_at TEXT,
        -- Kept by the store's write methods so that listing never counts turns.
        turn_count INTEGER NOT NULL DEFAULT 0,
        open_turns INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX conversations_by_update ON conversations (updated_at)",
    # A turn's ``id`` is its conversation's id shifted left TURN_KEY_SHIFT bits, plus
    # its seq: a search hit names its conversation without a lookup, and a
    # conversation's turns sit together in the table, in order.
    """CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL
            REFERENCES conversations (conversation_id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        user_text TEXT NOT NULL,
        status TEXT NOT NULL,
        reply TEXT NOT NULL DEFAULT '',
        reasoning TEXT NOT NULL DEFAULT '',
        error_kind TEXT,
        error_message TEXT,
        error_retryable INTEGER,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        queued_at REAL NOT NULL DEFAULT 0,
        started_at REAL,
        ended_at REAL,
        delivered INTEGER NOT NULL DEFAULT 1,
        items TEXT NOT NULL DEFAULT '[]',
        model TEXT,
        provider TEXT,
        UNIQUE (conversation_id, turn_id),
        UNIQUE (conversation_id, seq)
    )""",
    # Small: only turns not answered yet, for `running` and the first running turn.
    "CREATE INDEX turns_open ON turns (conversation_id, seq) WHERE status IN ('queued', 'running')",
    # Small: only messages the backend has not taken yet (the outbox).
    "CREATE INDEX turns_undelivered ON turns (queued_at) WHERE delivered = 0",
    """CREATE TABLE tool_calls (
        conversation_id TEXT NOT NULL,
        turn_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        arguments TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at REAL,
        ended_at REAL,
        duration_ms REAL,
        output_blob TEXT,
        output_bytes INTEGER,
        PRIMARY KEY (conversation_id, call_id),
        FOREIGN KEY (conversation_id, turn_id)
            REFERENCES turns (conversation_id, turn_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX tool_calls_by_turn ON tool_calls (conversation_id, turn_id, seq)",
    "CREATE INDEX tool_calls_by_blob ON tool_calls (output_blob) WHERE output_blob IS NOT NULL",
    """CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

# Letters, digits, private use and symbols (emoji) make words; the rest separates
# them. Case and accents are ignored. (store.search_words mirrors the categories.)
FTS_TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co So'"

_FULL_TEXT: Sequence[str] = (
    # External content: the index holds no copy of the text, only the words.
    # Prefix indexes keep a search typed letter by letter ("c", "ca", "cal") quick.
    f"""CREATE VIRTUAL TABLE turns_fts USING fts5 (
        user_text, reply,
        content = 'turns', content_rowid = 'id',
        tokenize = "{FTS_TOKENIZER}", prefix = '1 2 3'
    )""",
    f"""CREATE VIRTUAL TABLE titles_fts USING fts5 (
        title,
        content = 'conversations', content_rowid = 'id',
        tokenize = "{FTS_TOKENIZER}", prefix = '1 2 3'
    )""",
    # Triggers keep the index in step with every write, whichever code makes it
    # (and with the cascade that deleting a conversation sets off).
    """CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
        INSERT INTO turns_fts (rowid, user_text, reply) VALUES (new.id, new.user_text, new.reply);
    END""",
    """CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
        INSERT INTO turns_fts (turns_fts, rowid, user_text, reply)
            VALUES ('delete', old.id, old.user_text, old.reply);
    END""",
    """CREATE TRIGGER turns_fts_update AFTER UPDATE OF user_text, reply ON turns
    WHEN old.user_text IS NOT new.user_text OR old.reply IS NOT new.reply BEGIN
        INSERT INTO turns_fts (turns_fts, rowid, user_text, reply)
            VALUES ('delete', old.id, old.user_text, old.reply);
        INSERT INTO turns_fts (rowid, user_text, reply) VALUES (new.id, new.user_text, new.reply);
    END""",
    """CREATE TRIGGER titles_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
    END""",
    """CREATE TRIGGER titles_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
    END""",
    """CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON conversations
    WHEN old.title IS NOT new.title BEGIN
        INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
    END""",
    # Whatever the tables held before this version is indexed too.
    "INSERT INTO turns_fts (turns_fts) VALUES ('rebuild')",
    "INSERT INTO titles_fts (titles_fts) VALUES ('rebuild')",
)

_TOOL_SOURCES_AND_APPROVALS: Sequence[str] = (
    # Which MCP server a call went to (NULL: a built-in tool).
    "ALTER TABLE tool_calls ADD COLUMN server TEXT",
    # Tool calls waiting for the user's decision: written when the turn starts to
    # wait, deleted when it is decided or the turn ends, so it is small.
    """CREATE TABLE approvals (
        conversation_id TEXT NOT NULL
            REFERENCES conversations (conversation_id) ON DELETE CASCADE,
        turn_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        tool TEXT NOT NULL,
        server TEXT,
        arguments TEXT NOT NULL,
        requested_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, call_id)
    )""",
    "CREATE INDEX approvals_by_call ON approvals (call_id)",
)

# (version, statements), oldest first; append, never edit.
MIGRATIONS: list[tuple[int, Sequence[str]]] = [
    (1, _TABLES),
    (2, _FULL_TEXT),
    (3, _TOOL_SOURCES_AND_APPROVALS),
]
LATEST_VERSION = MIGRATIONS[-1][0]
