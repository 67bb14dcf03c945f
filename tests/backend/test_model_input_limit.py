"""A model call whose input would pass Temporal's payload limit is never scheduled."""

from __future__ import annotations

from backend.worker.interceptors import (
    MAX_MODEL_INPUT_BYTES,
    model_input_size,
    oversized_model_input,
)
from backend.workflows.turn_errors import classify


def _call(items: object) -> list[object]:
    return [{"model_name": "durachat", "input": items, "tools": []}]


def test_an_input_over_the_limit_ends_the_turn_saying_why() -> None:
    big = [
        {"role": "user", "content": "x" * 1_000_000},
        {"role": "assistant", "content": "y" * 900_000},
    ]
    assert model_input_size(_call(big)) > MAX_MODEL_INPUT_BYTES
    problem = oversized_model_input(_call(big))
    assert problem is not None and problem.non_retryable
    error = classify(problem)
    assert error.kind == "too_large" and not error.retryable
    assert "start a new conversation" in error.message


def test_ordinary_inputs_pass() -> None:
    assert oversized_model_input(_call([{"role": "user", "content": "hello"}])) is None
    assert oversized_model_input(_call("a plain string input")) is None


def test_the_size_counts_encoded_bytes_not_characters() -> None:
    emoji = [{"role": "user", "content": "🙂" * 500_000}]  # 2 MB of UTF-8 in 0.5 M chars
    assert oversized_model_input(_call(emoji)) is not None
