"""What a row of the conversation list holds: its data roles and the texts made from them.

The delegate paints from these roles and the accessibility bridge reads the same ones,
so what a screen reader says is what the row shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from PySide6.QtCore import Qt

from desktop.conversations.relative_time import full_time

UNTITLED = "(untitled)"
GENERATING = "Replying…"
WAITING = "Needs approval"


class Role(IntEnum):
    # UserRole stays the conversation id: the window and its tests read it there.
    ID = Qt.ItemDataRole.UserRole
    TITLE = Qt.ItemDataRole.UserRole + 1
    UPDATED_AT = Qt.ItemDataRole.UserRole + 2  # Unix seconds
    TIME_TEXT = Qt.ItemDataRole.UserRole + 3  # "2 min ago", refreshed every minute
    HEADER = Qt.ItemDataRole.UserRole + 4  # the day group this row opens, "" for none
    RUNNING = Qt.ItemDataRole.UserRole + 5
    UNREAD = Qt.ItemDataRole.UserRole + 6
    WAITING = Qt.ItemDataRole.UserRole + 7


@dataclass(frozen=True, slots=True)
class RowState:
    title: str
    time_text: str
    running: bool = False
    unread: bool = False
    waiting: bool = False

    @property
    def status(self) -> str:
        """The label shown instead of the time, if any: waiting outranks generating."""
        if self.waiting:
            return WAITING
        if self.running:
            return GENERATING
        return ""

    def accessible_text(self) -> str:
        """One sentence a screen reader says for the row: title, time, then state."""
        parts = [self.title, self.time_text]
        if self.unread:
            parts.append("unread reply")
        if self.running:
            parts.append("generating a reply")
        if self.waiting:
            parts.append("waiting for your approval")
        return ", ".join(parts)

    def tooltip(self, updated: datetime) -> str:
        lines = [self.title, f"Updated {full_time(updated)}"]
        if self.waiting:
            lines.append("Waiting for your approval of a tool")
        elif self.running:
            lines.append("Generating a reply…")
        elif self.unread:
            lines.append("New reply you have not seen")
        lines.append("F2 renames, Delete deletes")
        return "\n".join(lines)
