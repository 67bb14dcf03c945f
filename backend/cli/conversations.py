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
from pathlib import Path
from typing import Literal

from backend.client.errors import DuraChatError, NoSuchConversation
from backend.client.store import ConversationStore
from backend.client.store_types import WORKFLOWS_IMPORTED, Export, ExportedConversation
from backend.local.paths import DataDir
from backend.local.private_files import write_private

ExportFormat = Literal["markdown", "json"]


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
        if conversation_id is not None:
            conversations = [store.export_conversation(conversation_id)]
        else:
            ids = [r.conversation_id for r in store.list_conversations()]
            conversations = [store.export_conversation(i) for i in reversed(ids)]
    finally:
        store.close()
    if fmt == "json":
        text = Export(exported_at=time.time(), conversations=conversations).model_dump_json(
            indent=2
        )
    else:
        from backend.client.markdown_export import export_markdown

        text = export_markdown(conversations)
    if output is None or output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        # Private like the data dir: it holds whole conversations.
        write_private(Path(output), text)
        print(f"exported {len(conversations)} conversation(s) to {output}", file=sys.stderr)
    return 0


def import_command(data: DataDir, path: str) -> int:
    conversations, skipped, what = read_import(Path(path))
    store = open_store(data)
    try:
        for conversation in conversations:
            store.import_conversation(conversation)
    finally:
        store.close()
    note = f" ({skipped} could not be read and were skipped)" if skipped else ""
    print(f"imported {len(conversations)} conversation(s) from {what}{note}", file=sys.stderr)
    return 0


def read_import(path: Path) -> tuple[list[ExportedConversation], int, str]:
    """The conversations in a DuraChat JSON export or a ChatGPT export (its
    ``conversations.json`` or the zip it came in), how many were skipped, and what
    the file was; ValueError says why a file is neither."""
    raw = path.read_bytes()
    if raw.lstrip()[:1] == b"{" and b'"durachat-export"' in raw[:4096]:
        from pydantic import ValidationError

        try:
            export = Export.model_validate_json(raw)
        except ValidationError as exc:
            raise ValueError(f"{path} is a damaged DuraChat export ({_first(exc)})") from None
        return export.conversations, 0, "a DuraChat export"
    from backend.client.chatgpt_import import parse_chatgpt_export

    try:
        result = parse_chatgpt_export(raw)
    except ValueError as exc:
        raise ValueError(
            f"{path}: {exc} (durachat import reads a DuraChat JSON export or a ChatGPT data export)"
        ) from None
    return result.conversations, result.skipped, "a ChatGPT export"


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


def run_store_command(command: object, data: DataDir) -> int:
    """Run one of the above; a user's error ends in one line."""
    assert callable(command)
    try:
        return int(command())
    except NoSuchConversation as exc:
        print(f"durachat: {exc} (durachat list shows them)", file=sys.stderr)
        return 1
    except DuraChatError as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"durachat: {data.explain(exc)}", file=sys.stderr)
        return 1


def _first(exc: object) -> str:
    errors = exc.errors(include_url=False)  # type: ignore[attr-defined]
    where = ".".join(str(part) for part in errors[0]["loc"])
    return f"{where}: {errors[0]['msg']}"
