"""The model's context: the most recent turns within a token budget.

The model is sent the newest turns whole (a tool call always with its result,
since they are in the same turn) while their estimated tokens fit the budget;
the newest turn is always kept. Older turns stay in the conversation store.
Deterministic: the workflow runs it.

Claim check: a turn the store holds travels in the model call's input as a
reference (one small item naming the turn), which the model call in the worker
replaces with the turn's items read from the store. So a model call's input, and
the workflow's history, do not grow with the context: only the turn running now
travels whole.
"""

from __future__ import annotations

import json
from typing import Any

from backend.workflows.conversation_types import ContextTurn

# A rough count that needs no tokenizer: about four characters a token for English
# text and JSON; it errs on the side of sending less.
CHARS_PER_TOKEN = 4


def estimate_tokens(items: list[dict[str, Any]]) -> int:
    return len(json.dumps(items, ensure_ascii=False)) // CHARS_PER_TOKEN + 1


# A reference's text: ⟦durachat-context:<turn id>⟧. Unlike anything a user or model writes.
REFERENCE_START = "\u27e6durachat-context:"
REFERENCE_END = "\u27e7"


def context_turn(turn_id: str, items: list[dict[str, Any]], *, stored: bool = False) -> ContextTurn:
    return ContextTurn(turn_id=turn_id, items=items, tokens=estimate_tokens(items), stored=stored)


def model_input(context: list[ContextTurn]) -> list[dict[str, Any]]:
    """What a model call is given of the context: a reference for each turn the store
    holds, the items themselves for any other (from before the store)."""
    items: list[dict[str, Any]] = []
    for turn in context:
        if turn.stored and turn.turn_id:
            items.append(
                {"role": "user", "content": REFERENCE_START + turn.turn_id + REFERENCE_END}
            )
        else:
            items.extend(turn.items)
    return items


def referenced_turn(item: object) -> str | None:
    """The turn id an input item refers to, or None for any other item."""
    if not isinstance(item, dict) or item.get("role") != "user":
        return None
    content = item.get("content")
    if (
        isinstance(content, str)
        and content.startswith(REFERENCE_START)
        and content.endswith(REFERENCE_END)
    ):
        return content[len(REFERENCE_START) : -len(REFERENCE_END)]
    return None


def trimmed(context: list[ContextTurn], budget_tokens: int) -> list[ContextTurn]:
    """The newest turns of ``context`` whose tokens fit ``budget_tokens`` (at least one)."""
    kept: list[ContextTurn] = []
    total = 0
    for turn in reversed(context):
        if kept and total + turn.tokens > budget_tokens:
            break
        kept.append(turn)
        total += turn.tokens
    kept.reverse()
    return kept


def flattened(context: list[ContextTurn]) -> list[dict[str, Any]]:
    return [item for turn in context for item in turn.items]


def split_by_turn(items: list[dict[str, Any]], turn_ids: list[str]) -> list[ContextTurn]:
    """A run's model items from before the store (one list for the whole conversation)
    as one block per turn, each starting at a user message, so the oldest can be let
    go of one by one. The blocks are named after ``turn_ids`` when their counts agree
    (they do unless earlier items were cut to fit a continue-as-new)."""
    blocks: list[list[dict[str, Any]]] = []
    for item in items:
        if item.get("role") == "user" or not blocks:
            blocks.append([])
        blocks[-1].append(item)
    names = turn_ids[-len(blocks) :] if len(turn_ids) >= len(blocks) else []
    return [context_turn(names[i] if names else "", block) for i, block in enumerate(blocks)]
