"""The live event schema, version 1: the one definition used by publisher and subscriber.

Every event on a conversation's Redis stream is one JSON object with these fields:

``v``                schema version (1)
``type``             what happened (see below)
``conversation_id``  the conversation (``conversation-<uuid>``)
``turn_id``          the turn: the client-made id of the user message that began it
``call``             which model call of the turn (0, 1, ...; a tool round trip adds one);
                     -1 for events of the turn as a whole
``attempt``          the Temporal attempt of the activity that published it (1, 2, ...)
``seq``              assigned by Redis when the event is appended: strictly increasing per
                     conversation and gap-free unless a crashed Redis lost its last writes,
                     so a subscriber can tell it missed something; never handed out twice
``ts``               the publisher's wall clock (Unix seconds) when it produced the event

Types and their own fields:

``turn_started``     ``text``: the user's message; published as the turn's first model call
                     starts (again if that call is retried); a turn that fails before
                     any model call has none
``attempt_started``  ``model``; ``retry``: true when an earlier attempt of this call failed:
                     the subscriber drops everything it holds of this ``call`` from older
                     attempts, so a retried call never shows duplicated text
``text_delta``       ``text``
``reasoning_delta``  ``text``
``tool_call``        ``call_id``, ``name``, ``arguments`` (JSON text, as the model wrote it)
``tool_result``      ``call_id``, ``name``, ``output`` or ``error``, ``duration_ms``
                     (``attempt`` is the tool activity's attempt)
``approval_requested`` ``call_id``, ``name``, ``server`` (None: built-in), ``arguments``:
                     the turn waits for the user to allow or deny this call
``approval_settled`` ``call_id``, ``allowed``, ``reason``: the wait is over
``message_done``     ``text``: the whole text of this model call (the truth for it)
``turn_done``        ``input_tokens``, ``output_tokens``
``turn_failed``      ``kind``, ``message``, ``retryable``
``turn_cancelled``   ``partial``: the text kept, marked stopped
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

SCHEMA_VERSION = 1
TURN_LEVEL = -1


class _Event(BaseModel):
    v: int = SCHEMA_VERSION
    conversation_id: str
    turn_id: str
    call: int = TURN_LEVEL
    attempt: int = 1
    seq: int = 0
    ts: float = Field(default_factory=time.time)


class TurnStarted(_Event):
    type: Literal["turn_started"] = "turn_started"
    text: str


class AttemptStarted(_Event):
    type: Literal["attempt_started"] = "attempt_started"
    model: str
    retry: bool = False


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ReasoningDelta(_Event):
    type: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


class ToolCall(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: str


class ToolResult(_Event):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    output: str | None = None
    error: str | None = None
    duration_ms: float


class ApprovalRequested(_Event):
    type: Literal["approval_requested"] = "approval_requested"
    call_id: str
    name: str
    server: str | None = None
    arguments: str


class ApprovalSettled(_Event):
    type: Literal["approval_settled"] = "approval_settled"
    call_id: str
    allowed: bool
    reason: str | None = None


class MessageDone(_Event):
    type: Literal["message_done"] = "message_done"
    text: str


class TurnDone(_Event):
    type: Literal["turn_done"] = "turn_done"
    input_tokens: int = 0
    output_tokens: int = 0


class TurnFailed(_Event):
    type: Literal["turn_failed"] = "turn_failed"
    kind: str
    message: str
    retryable: bool = False


class TurnCancelled(_Event):
    type: Literal["turn_cancelled"] = "turn_cancelled"
    partial: str = ""


StreamEvent = Annotated[
    TurnStarted
    | AttemptStarted
    | TextDelta
    | ReasoningDelta
    | ToolCall
    | ToolResult
    | ApprovalRequested
    | ApprovalSettled
    | MessageDone
    | TurnDone
    | TurnFailed
    | TurnCancelled,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)

TERMINAL_TYPES = frozenset({"turn_done", "turn_failed", "turn_cancelled"})


def encode(event: _Event) -> str:
    """JSON for the stream; ``seq`` is left out because Redis assigns it."""
    return event.model_dump_json(exclude={"seq"})


def decode(payload: str | bytes, seq: int) -> StreamEvent:
    event = _ADAPTER.validate_json(payload)
    event.seq = seq
    return event
