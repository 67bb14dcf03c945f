"""Export and Import in the window: a file dialog, then what ``durachat export`` and
``durachat import`` do (``backend.client.transfer``), read from and written to the
conversation store directly, so both work while the backend is down."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from backend.client.errors import DuraChatError
from backend.client.store import ConversationStore
from backend.client.transfer import ExportFormat, export_text, import_into, read_import
from backend.local.private_files import write_private

_FILTERS = {"markdown": "Markdown (*.md)", "json": "DuraChat export (*.json)"}


def export_to(
    store: ConversationStore, conversation_id: str | None, path: Path, fmt: ExportFormat
) -> str:
    """Write the export; the line to show in the status bar (also when it failed)."""
    try:
        text, count = export_text(store, conversation_id, fmt)
        write_private(path, text)
    except (DuraChatError, OSError) as exc:
        return f"Not exported: {exc}"
    return f"Exported {count} conversation(s) to {path}"


def import_from(store: ConversationStore, path: Path) -> str:
    try:
        imported = read_import(path)
        import_into(store, imported)
    except (DuraChatError, OSError, ValueError) as exc:
        return f"Not imported: {exc}"
    said = imported.summary()
    return said[:1].upper() + said[1:]


def ask_export_path(parent: QWidget, suggested: str) -> tuple[Path, ExportFormat] | None:
    path, chosen = QFileDialog.getSaveFileName(
        parent,
        "Export conversation",
        suggested,
        ";;".join(_FILTERS.values()),
    )
    if not path:
        return None
    fmt: ExportFormat = (
        "json" if chosen == _FILTERS["json"] or path.endswith(".json") else "markdown"
    )
    return Path(path), fmt


def ask_import_path(parent: QWidget) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(
        parent,
        "Import conversations",
        "",
        "DuraChat or ChatGPT export (*.json *.zip);;All files (*)",
    )
    return Path(path) if path else None
