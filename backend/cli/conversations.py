"""``durachat list``, ``history``, ``export``, ``import`` and ``delete``.

Reading needs no backend: the conversation store in the data dir answers, so
these work with the worker stopped and print in a fraction of a second (this
module imports neither Temporal nor Redis). Two cases start a backend for the
call, as ``send`` does: a data dir from before the store, whose conversations
the backend moves into it at its first start; and ``delete``, which also ends the
conversation's workflow and live stream.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from backend.cli.output import stdout_closed
from backend.client.errors import DuraChatError, NoSuchConversation
from backend.client.store import ConversationStore
from backend.client.store_types import WORKFLOWS_IMPORTED
from backend.client.transfer import ExportFormat, export_text, import_into, read_import
from backend.local.paths import DataDir
from backend.local.private_files import write_private


def open_store(data: DataDir) -> ConversationStore:
    """The data dir's store, with the conversations of an earlier DuraChat in it
    (a backend is started once, for the move, when they are not yet)."""
    data.ensure()
    store = ConversationStore.in_data_dir(data.root)
    if store.get_meta(WORKFLOWS_IMPORTED) is None and data.temporal_db.exists():
        store.close()
        from backend.cli.chat import backend_client, run_chat_command

        async def start_backend() -> int:
            async with backend_client(data):
                return 0  # starting (or finding) the backend moved them

        code = run_chat_command(start_backend(), data)
        if code:
            raise SystemExit(code)
        store = ConversationStore.in_data_dir(data.root)
    return store


def list_command(data: DataDir, search: str, as_json: bool) -> int:
    store = open_store(data)
    try:
        records = store.list_conversations(search)
    finally:
        store.close()
    if as_json:
        rows = [
            {
                "conversation_id": r.conversation_id,
                "title": r.title,
                "updated_at": r.updated_at,
                "running": r.running,
                "created_at": r.created_at,
                "turns": r.turn_count,
                "model": r.model,
            }
            for r in records
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in records:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated_at))
            print(f"{r.conversation_id}  {when}  {r.title}{'  (replying)' if r.running else ''}")
    return 0


def history_command(data: DataDir, conversation_id: str, last: int | None) -> int:
    store = open_store(data)
    try:
        view = store.history(conversation_id, last=last)
    finally:
        store.close()
    print(view.model_dump_json(indent=2))
    return 0


def export_command(
    data: DataDir,
    conversation_id: str | None,
    fmt: ExportFormat,
    output: str | None,
) -> int:
    store = open_store(data)
    try:
        text, count = export_text(store, conversation_id, fmt)
    finally:
        store.close()
    if output is None or output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        # Private like the data dir: it holds whole conversations.
        try:
            write_private(Path(output), text)
        except OSError as exc:
            raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"exported {count} conversation(s) to {output}", file=sys.stderr)
    return 0


def import_command(data: DataDir, path: str) -> int:
    imported = read_import(Path(path))
    store = open_store(data)
    try:
        import_into(store, imported)
    finally:
        store.close()
    print(imported.summary(), file=sys.stderr)
    return 0


def delete_command(data: DataDir, conversation_id: str) -> int:
    store = open_store(data)
    try:
        known = store.get_conversation(conversation_id) is not None
    finally:
        store.close()
    if not known:
        raise NoSuchConversation(f"no such conversation: {conversation_id}")
    from backend.cli.chat import backend_client, run_chat_command

    async def delete() -> int:
        async with backend_client(data) as client:
            await client.delete(conversation_id)
        return 0

    code = run_chat_command(delete(), data)
    if code == 0:
        print(f"deleted {conversation_id}", file=sys.stderr)
    return code


def run_store_command(command: Callable[[], int], data: DataDir) -> int:
    """Run one of the above; a user's error ends in one line."""
    try:
        return command()
    except NoSuchConversation as exc:
        print(f"durachat: {exc} (durachat list shows them)", file=sys.stderr)
        return 1
    except DuraChatError as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return stdout_closed()
    except OSError as exc:
        print(f"durachat: {data.explain(exc)}", file=sys.stderr)
        return 1
