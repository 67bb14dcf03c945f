"""What the model is sent of a long conversation: the newest whole turns within the
budget, tool calls with their results. Fast: no processes."""

from __future__ import annotations

from backend.workflows.model_context import context_turn, flattened, split_by_turn, trimmed


def _turn(n: int, size: int = 400) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": f"question {n} " + "x" * size},
        {"type": "function_call", "call_id": f"c{n}", "name": "calculator", "arguments": "{}"},
        {"type": "function_call_output", "call_id": f"c{n}", "output": "42"},
        {"role": "assistant", "content": f"answer {n}"},
    ]


def test_the_newest_whole_turns_that_fit_are_kept() -> None:
    context = [context_turn(f"t{n}", _turn(n)) for n in range(100)]
    per_turn = context[0].tokens
    kept = trimmed(context, budget_tokens=per_turn * 10 + per_turn // 2)
    assert [t.turn_id for t in kept] == [f"t{n}" for n in range(90, 100)]
    items = flattened(kept)
    calls = {i["call_id"] for i in items if i.get("type") == "function_call"}
    results = {i["call_id"] for i in items if i.get("type") == "function_call_output"}
    assert calls == results  # never a result without its call, nor the reverse


def test_the_newest_turn_is_kept_even_over_the_budget() -> None:
    context = [context_turn("old", _turn(1)), context_turn("huge", _turn(2, size=100_000))]
    assert [t.turn_id for t in trimmed(context, budget_tokens=1_000)] == ["huge"]


def test_a_run_from_before_the_store_is_split_turn_by_turn() -> None:
    items = [item for n in range(5) for item in _turn(n)]
    blocks = split_by_turn(items, [f"t{n}" for n in range(5)])
    assert [b.turn_id for b in blocks] == [f"t{n}" for n in range(5)]
    assert flattened(blocks) == items
    # Items cut before (fewer blocks than turns): named after the newest turns.
    assert [b.turn_id for b in split_by_turn(items[4:], [f"t{n}" for n in range(5)])] == [
        "t1",
        "t2",
        "t3",
        "t4",
    ]
    # Then trimming lets go of the oldest one at a time.
    one = blocks[0].tokens
    assert [b.turn_id for b in trimmed(blocks, one * 3 + 1)] == ["t2", "t3", "t4"]


def test_stored_turns_travel_as_references_and_resolve_to_their_items() -> None:
    from backend.workflows.model_context import model_input, referenced_turn

    stored = [context_turn(f"t{n}", _turn(n), stored=True) for n in range(3)]
    legacy = context_turn("", _turn(9))  # from before the store: only inline
    sent = model_input([legacy, *stored])
    assert sent[: len(legacy.items)] == legacy.items
    refs = [referenced_turn(item) for item in sent[len(legacy.items) :]]
    assert refs == ["t0", "t1", "t2"]
    assert len(str(sent)) < len(str(flattened([legacy, *stored])))
    # What the model call in the worker puts back (from the store) is the context.
    by_id = {t.turn_id: t.items for t in stored}
    resolved = []
    for item in sent:
        ref = referenced_turn(item)
        resolved += by_id[ref] if ref else [item]
    assert resolved == flattened([legacy, *stored])
    # A user who types something like a reference is not mistaken for one.
    assert referenced_turn({"role": "user", "content": "⟦durachat-context:t1"}) is None
    assert referenced_turn({"role": "assistant", "content": sent[-1]["content"]}) is None
