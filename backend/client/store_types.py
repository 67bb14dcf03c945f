"""What the conversation store hands out and takes in, beside the workflow's own
types (``Turn``, ``ToolCallRecord``, ``ConversationView``), which it reuses so a
history read from the store has the same shape as one read from a workflow."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from backend.workflows.conversation_types import Turn

EXPORT_FORMAT = "durachat-export"
EXPORT_VERSION = 1
# Store meta key: the conversations of workflows from before the store were moved in.
WORKFLOWS_IMPORTED = "imported-from-workflows"


class ConversationRecord(BaseModel):
    """One row of the conversation list."""

    conversation_id: str
    title: str
    title_is_custom: bool = False
    created_at: float
    updated_at: float
    model: str | None = None  # the model and provider of the latest reply
    provider: str | None = None
    # A message of it waits to be answered or is being answered (or waits to be sent).
    running: bool = False
    turn_count: int = 0


class HeldMessage(BaseModel):
    """A message the user sent that the backend has not taken yet (the outbox)."""

    conversation_id: str
    message_id: str
    text: str
    held_at: float


class ExportedTurn(Turn):
    """A turn with everything the store keeps of it: tool outputs whole (not the
    preview the history shows) and the model-context items the turn added."""

    items: list[dict[str, Any]] = Field(default_factory=list)
    model: str | None = None
    provider: str | None = None


class ExportedConversation(BaseModel):
    conversation_id: str
    title: str
    title_is_custom: bool = False
    created_at: float
    updated_at: float
    model: str | None = None
    provider: str | None = None
    # The turn where the model's context began at the last reply (None: the first).
    context_starts_at: str | None = None
    turns: list[ExportedTurn] = Field(default_factory=list)


class Export(BaseModel):
    """``durachat export --format json``: everything, and what ``import`` reads back."""

    format: Literal["durachat-export"] = EXPORT_FORMAT
    version: int = EXPORT_VERSION
    exported_at: float
    conversations: list[ExportedConversation]
