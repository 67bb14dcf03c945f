"""Which turn the workflow is running, for the outbound interceptor to read.

The conversation workflow sets ``CURRENT_TURN`` inside the task that runs a
turn; activities scheduled from that task (model calls, tools) inherit it. The
workflow imports this module passed through the sandbox, so the interceptor
(outside it) sees the same ContextVar.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class TurnScope:
    conversation_id: str
    turn_id: str
    model_calls: int = 0  # how many model calls this turn has scheduled so far


CURRENT_TURN: ContextVar[TurnScope | None] = ContextVar("durachat_current_turn", default=None)
