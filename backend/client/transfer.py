"""Export and import: what ``durachat export``/``import`` and the window's menus share.

An export is Markdown to read or a JSON file holding everything, which ``import``
reads back exactly; ``import`` also reads a ChatGPT data export (its
``conversations.json`` or the zip it came in). Importing the same file twice
changes nothing: conversations and turns keep their ids.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from backend.client.store import ConversationStore
from backend.client.store_types import Export, ExportedConversation

ExportFormat = Literal["markdown", "json"]


def export_text(
    store: ConversationStore, conversation_id: str | None, fmt: ExportFormat
) -> tuple[str, int]:
    """One conversation (or, with None, all of them, oldest first) as ``fmt``, and how
    many conversations it holds. Raises NoSuchConversation for an unknown id."""
    if conversation_id is not None:
        conversations = [store.export_conversation(conversation_id)]
    else:
        ids = [r.conversation_id for r in store.list_conversations()]
        conversations = [store.export_conversation(i) for i in reversed(ids)]
    if fmt == "json":
        export = Export(exported_at=time.time(), conversations=conversations)
        return export.model_dump_json(indent=2), len(conversations)
    from backend.client.markdown_export import export_markdown

    return export_markdown(conversations), len(conversations)


@dataclass
class Imported:
    conversations: list[ExportedConversation]
    skipped: int  # malformed conversations left out (the rest were read)
    source: str  # what the file was, in words

    def summary(self) -> str:
        note = f" ({self.skipped} could not be read and were skipped)" if self.skipped else ""
        return f"imported {len(self.conversations)} conversation(s) from {self.source}{note}"


def read_import(path: Path) -> Imported:
    """The conversations in a DuraChat JSON export or a ChatGPT export; ValueError (one
    line) when the file is neither. OSError when it cannot be read."""
    raw = path.read_bytes()
    if raw.lstrip()[:1] == b"{" and b'"durachat-export"' in raw[:4096]:
        try:
            export = Export.model_validate_json(raw)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"])
            raise ValueError(
                f"{path} is a damaged DuraChat export ({where}: {error['msg']})"
            ) from None
        return Imported(export.conversations, 0, "a DuraChat export")
    from backend.client.chatgpt_import import parse_chatgpt_export

    try:
        result = parse_chatgpt_export(raw)
    except ValueError as exc:
        raise ValueError(
            f"{path}: {exc} (import reads a DuraChat JSON export or a ChatGPT data export)"
        ) from None
    return Imported(result.conversations, result.skipped, "a ChatGPT export")


def import_into(store: ConversationStore, imported: Imported) -> None:
    store.bulk_import(imported.conversations)
