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
    # Stop was asked: the turn starts no new activity (see the outbound interceptor).
    # Cancelling the turn's task is not enough on its own: a Stop that arrives in the
    # same workflow task as an activity's result cancels a future already resolved,
    # and the turn would go on to its next model or tool call.
    stopping: bool = False


CURRENT_TURN: ContextVar[TurnScope | None] = ContextVar("durachat_current_turn", default=None)

# Set inside the task that runs the turn's agent only (not where the workflow ends a
# turn), so a stopped turn's own work is refused and its ending still runs.
RUNNING_AGENT: ContextVar[TurnScope | None] = ContextVar("durachat_running_agent", default=None)
