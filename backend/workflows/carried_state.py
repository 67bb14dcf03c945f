"""Fitting a conversation's state into the one payload that continue-as-new carries.

Temporal refuses a payload over 2 MB, and a run that cannot continue as new is
stuck. The state holds the transcript (turns) and the model's context (items),
and tool output appears in both. Before it is carried, the state is made to fit,
in this order, each step only while it is still too large:

1. tool arguments and outputs of earlier turns are cut short, in the records and
   in the model's context (the turn that just ran keeps them whole);
2. the oldest items of the model's context are dropped (it keeps the newest,
   with every tool call next to its result);
3. earlier turns' reasoning, then replies, are cut short, with a note saying so.

Deterministic: the workflow runs it, and a replay must make the same state.
"""

from __future__ import annotations

from typing import Any

from backend.workflows.conversation_types import ConversationState

CARRY_LIMIT_BYTES = 1_500_000
KEEP_CHARS = 2_000
# The newest items (the turn that just ran, typically) keep their tool output whole.
KEEP_ITEMS_WHOLE = 8
CUT_NOTE = "\n[... cut here: this conversation outgrew what one turn of DuraChat can carry]"


def size(state: ConversationState) -> int:
    return len(state.model_dump_json().encode("utf-8", "surrogatepass"))


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= KEEP_CHARS:
        return text
    return text[:KEEP_CHARS] + CUT_NOTE


def fit_for_carry(state: ConversationState, limit: int = CARRY_LIMIT_BYTES) -> ConversationState:
    """``state`` itself, changed in place until it fits ``limit`` (see the module doc)."""
    if size(state) <= limit:
        return state
    earlier = state.turns[:-1]
    for turn in earlier:
        for call in turn.tool_calls:
            call.arguments = _cut(call.arguments) or ""
            call.output = _cut(call.output)
    state.items = [_cut_item(item) for item in state.items[:-KEEP_ITEMS_WHOLE]] + state.items[
        -KEEP_ITEMS_WHOLE:
    ]
    while size(state) > limit and len(state.items) > 1:
        _drop_oldest_item(state.items)
    for field in ("reasoning", "reply"):
        for turn in earlier:
            if size(state) <= limit:
                return state
            setattr(turn, field, _cut(getattr(turn, field)) or "")
    return state


def _cut_item(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "function_call_output" and isinstance(item.get("output"), str):
        return {**item, "output": _cut(item["output"])}
    if kind == "function_call" and isinstance(item.get("arguments"), str):
        return {**item, "arguments": _cut(item["arguments"])}
    return item


def _drop_oldest_item(items: list[dict[str, Any]]) -> None:
    """Drop the first item, and every tool result whose call is then gone (a model
    refuses a result without its call), and reasoning left at the front."""
    items.pop(0)
    calls = {item.get("call_id") for item in items if item.get("type") == "function_call"}
    items[:] = [
        item
        for item in items
        if item.get("type") != "function_call_output" or item.get("call_id") in calls
    ]
    while len(items) > 1 and items[0].get("type") == "reasoning":
        items.pop(0)
