"""What an activity knows about the conversation it serves, from its Temporal headers.

Set by the activity inbound interceptor for the length of one activity attempt;
read by the streaming model and the tools when they publish live events.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

HEADER_CONVERSATION = "durachat-conversation"
HEADER_TURN = "durachat-turn"
HEADER_CALL = "durachat-call"


@dataclass(frozen=True)
class CallContext:
    conversation_id: str
    turn_id: str
    call: int  # model call index within the turn; -1 for activities that are not model calls
    attempt: int


CALL_CONTEXT: ContextVar[CallContext | None] = ContextVar("durachat_call_context", default=None)


def event_fields(ctx: CallContext) -> dict[str, Any]:
    """The envelope fields every live event published from this activity carries."""
    return {
        "conversation_id": ctx.conversation_id,
        "turn_id": ctx.turn_id,
        "call": ctx.call,
        "attempt": ctx.attempt,
    }
