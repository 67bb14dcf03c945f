"""The model's context: the most recent turns within a token budget.

The model is sent the newest turns whole (a tool call always with its result,
since they are in the same turn) while their estimated tokens fit the budget;
the newest turn is always kept. Older turns stay in the conversation store.
Deterministic: the workflow runs it.
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


def context_turn(turn_id: str, items: list[dict[str, Any]]) -> ContextTurn:
    return ContextTurn(turn_id=turn_id, items=items, tokens=estimate_tokens(items))


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
