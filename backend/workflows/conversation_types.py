"""What crosses the conversation workflow's boundary: signals, queries, its carried state."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

TurnStatus = Literal["queued", "running", "done", "failed", "stopped"]
TITLE_LENGTH = 60


class UserMessage(BaseModel):
    """Signal ``send``: the client makes ``message_id``; a resent id is ignored."""

    message_id: str
    text: str


class ToolCallRecord(BaseModel):
    call_id: str
    name: str
    arguments: str
    status: Literal["running", "done", "error"] = "running"
    output: str | None = None
    error: str | None = None
    started_at: float | None = None  # Unix seconds
    ended_at: float | None = None
    duration_ms: float | None = None
    attempts: int = 0


class TurnError(BaseModel):
    kind: str  # auth, rate_limited, provider_error, unreachable, configuration, timeout, ...
    message: str
    retryable: bool = False


class Turn(BaseModel):
    """One user message and the assistant's answer to it. ``turn_id`` is the message id."""

    turn_id: str
    user_text: str
    status: TurnStatus = "queued"
    reply: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    error: TurnError | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    queued_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None


class HistoryLimits(BaseModel):
    """When to continue-as-new: well below Temporal's 51,200 events and 50 MB."""

    max_events: int = 10_000
    max_bytes: int = 10_000_000


class ConversationState(BaseModel):
    conversation_id: str
    title: str = ""
    title_is_custom: bool = False
    created_at: float = 0.0
    turns: list[Turn] = Field(default_factory=list)
    # The agent's input items (OpenAI Responses format), as plain dicts: typed items
    # hold one-shot iterators after validation and would not survive a second run.
    items: list[dict[str, Any]] = Field(default_factory=list)
    runs: int = 1  # how many workflow runs (continue-as-new) this conversation spans


class ConversationArgs(BaseModel):
    conversation_id: str
    state: ConversationState | None = None
    limits: HistoryLimits = Field(default_factory=HistoryLimits)


class ConversationView(BaseModel):
    """Query ``history``: everything the window shows, none of the agent's raw items."""

    conversation_id: str
    title: str
    created_at: float
    updated_at: float
    running_turn_id: str | None
    turns: list[Turn]
    runs: int


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
