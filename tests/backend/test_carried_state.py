"""Fitting a conversation's state into continue-as-new's one payload: pure, no servers."""

from __future__ import annotations

from backend.workflows.carried_state import CARRY_LIMIT_BYTES, CUT_NOTE, fit_for_carry, size
from backend.workflows.conversation_types import ConversationState, ToolCallRecord, Turn


def _turn(n: int, output_bytes: int) -> tuple[Turn, list[dict]]:
    calls = [
        ToolCallRecord(call_id=f"c{n}-{i}", name="read_file", arguments='{"path": "big.txt"}',
                       output="x" * output_bytes, status="done")
        for i in range(3)
    ]  # fmt: skip
    turn = Turn(turn_id=f"t{n}", user_text=f"question {n}", reply=f"answer {n}", status="done",
                tool_calls=calls)  # fmt: skip
    items: list[dict] = [{"role": "user", "content": f"question {n}"}]
    for call in calls:
        items.append({"type": "function_call", "call_id": call.call_id, "name": "read_file",
                      "arguments": call.arguments})  # fmt: skip
    for call in calls:
        items.append(
            {"type": "function_call_output", "call_id": call.call_id, "output": call.output}
        )
    items.append({"role": "assistant", "content": f"answer {n}"})
    return turn, items


def _state(turns: int, output_bytes: int) -> ConversationState:
    state = ConversationState(conversation_id="conversation-x")
    for n in range(turns):
        turn, items = _turn(n, output_bytes)
        state.turns.append(turn)
        state.items += items
    return state


def test_a_small_state_is_carried_as_it_is() -> None:
    state = _state(3, 1000)
    before = state.model_dump()
    assert fit_for_carry(state).model_dump() == before


def test_a_state_past_the_limit_fits_and_keeps_what_matters() -> None:
    state = _state(4, 200_000)  # 2.4 MB of tool output, twice over
    assert size(state) > 2 * CARRY_LIMIT_BYTES
    fitted = fit_for_carry(state)
    assert size(fitted) <= CARRY_LIMIT_BYTES
    # Everything the user said and was answered stays.
    assert [t.user_text for t in fitted.turns] == [f"question {n}" for n in range(4)]
    assert [t.reply for t in fitted.turns] == [f"answer {n}" for n in range(4)]
    # The last turn's tool output is whole; earlier ones are cut, saying so.
    assert all(c.output == "x" * 200_000 for c in fitted.turns[-1].tool_calls)
    assert all(CUT_NOTE in (c.output or "") for t in fitted.turns[:-1] for c in t.tool_calls)
    # The model's context keeps every tool result next to its call.
    calls = {i["call_id"] for i in fitted.items if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in fitted.items if i.get("type") == "function_call_output"}
    assert outputs <= calls
    assert fitted.items[-1] == {"role": "assistant", "content": "answer 3"}


def test_oldest_context_goes_first_when_cutting_is_not_enough() -> None:
    state = _state(1, 10)
    state.items = [{"role": "user", "content": "y" * 400_000} for _ in range(6)]
    fitted = fit_for_carry(state)
    assert size(fitted) <= CARRY_LIMIT_BYTES
    assert 1 <= len(fitted.items) < 6
    assert fitted.turns[0].user_text == "question 0"
