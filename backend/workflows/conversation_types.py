"""What crosses the conversation workflow's boundary: signals, queries, its carried state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.tools.setup import ToolSetup

TurnStatus = Literal["queued", "running", "done", "failed", "stopped"]
TITLE_LENGTH = 60
# Temporal refuses payloads over 2 MB, and every model call re-sends the whole
# conversation: a message is refused well before that (as encoded: see
# client_api.encoded_size).
MAX_MESSAGE_BYTES = 1_000_000
MAX_TITLE_CHARS = 200
# Messages waiting behind a running reply; more are dropped (a stuck client or a flood).
MAX_QUEUED = 100

MessageId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
# Before rename collapses its whitespace (then it must be MAX_TITLE_CHARS at most).
Title = Annotated[str, StringConstraints(strict=True, max_length=MAX_TITLE_CHARS * 4)]


# How many tokens of earlier turns the model is sent with each message: the client
# says (settings, per model); these bound what it may say, the upper one so that a
# model call's input stays far below Temporal's 2 MB payload limit.
DEFAULT_CONTEXT_TOKENS = 32_000
MIN_CONTEXT_TOKENS = 1_000
MAX_CONTEXT_TOKENS = 200_000


class UserMessage(BaseModel):
    """Signal ``send``: the client makes ``message_id``; a resent id is ignored."""

    message_id: MessageId
    text: Annotated[str, StringConstraints(strict=True, min_length=1)]
    context_tokens: (
        Annotated[int, Field(strict=True, ge=MIN_CONTEXT_TOKENS, le=MAX_CONTEXT_TOKENS)] | None
    ) = None
    # The MCP servers and tool policies for this message's turn (None: the turn asks
    # the worker); see backend/tools/setup.py.
    tools: ToolSetup | None = None


class ToolCallRecord(BaseModel):
    call_id: str
    name: str
    arguments: str
    # waiting: for the user's approval; denied: by the user (``error`` says why).
    status: Literal["waiting", "running", "done", "error", "denied"] = "running"
    output: str | None = None
    error: str | None = None
    started_at: float | None = None  # Unix seconds
    ended_at: float | None = None
    duration_ms: float | None = None
    attempts: int = 0
    # Output longer than a record keeps is whole in the store's blobs, by this hash.
    output_blob: str | None = None
    output_bytes: int | None = None  # the whole output's size, when it was cut
    server: str | None = None  # the MCP server it ran on; None for a built-in tool


class PendingApproval(BaseModel):
    """A tool call waiting for the user's decision (``durachat approvals``)."""

    conversation_id: str
    turn_id: str
    call_id: str
    tool: str  # the name the model and the user see
    server: str | None = None  # the MCP server; None for a built-in tool
    arguments: str  # JSON text, as the model wrote it
    requested_at: float  # Unix seconds


MAX_REASON_CHARS = 2_000


class ApprovalDecision(BaseModel):
    """The ``decide`` update: allow or deny one pending call (the validator checks that
    it is pending). ``always``: allow this tool from now on, without asking."""

    call_id: str = Field(min_length=1, max_length=200)
    allow: bool
    always: bool = False
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)


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
    max_bytes: int = 4_000_000


class ContextTurn(BaseModel):
    """What one turn put in the model's context (OpenAI Responses items, plain dicts)."""

    turn_id: str
    items: list[dict[str, Any]] = Field(default_factory=list)
    tokens: int = 0  # estimated
    # The store holds these items under ``turn_id``: a model call may refer to them.
    stored: bool = False


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
    # Since the conversation store: ``turns`` holds only turns not yet written to the
    # store (queued, running), and the model's context is ``context``, trimmed to
    # ``context_tokens``. ``items`` is what runs from before carried instead.
    context: list[ContextTurn] = Field(default_factory=list)
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    # Ids of the latest turns already written and dropped, so a resent one is known.
    recent_ids: list[str] = Field(default_factory=list)


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
    runs: int = 1
    # Read from the conversation store: where the model's context began at the last
    # reply (a turn id; None: the first turn), and how many turns precede ``turns``.
    context_starts_at: str | None = None
    earlier_turns: int = 0
    model: str | None = None
    provider: str | None = None


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
