"""A model call whose input would pass Temporal's payload limit is never scheduled."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from backend.worker.interceptors import (
    MAX_MODEL_INPUT_BYTES,
    _check_model_input,
    model_input_size,
)
from backend.workflows.turn_errors import classify

MODEL = "invoke_model_activity"


def _call(items: object) -> list[object]:
    return [{"model_name": "durachat", "input": items, "tools": []}]


def test_an_input_over_the_limit_ends_the_turn_saying_why() -> None:
    big = [
        {"role": "user", "content": "x" * 1_000_000},
        {"role": "assistant", "content": "y" * 900_000},
    ]
    assert model_input_size(_call(big)) > MAX_MODEL_INPUT_BYTES
    with pytest.raises(ApplicationError) as caught:
        _check_model_input(MODEL, _call(big))
    assert caught.value.non_retryable
    error = classify(caught.value)
    assert error.kind == "too_large" and not error.retryable
    assert "start a new conversation" in error.message


def test_ordinary_inputs_and_other_activities_pass() -> None:
    _check_model_input(MODEL, _call([{"role": "user", "content": "hello"}]))
    _check_model_input(MODEL, _call("a plain string input"))
    _check_model_input("durachat_tool", [{"arguments": "z" * 3_000_000}])


def test_the_size_counts_encoded_bytes_not_characters() -> None:
    emoji = [{"role": "user", "content": "🙂" * 500_000}]  # 2 MB of UTF-8 in 0.5 M chars
    with pytest.raises(ApplicationError):
        _check_model_input(MODEL, _call(emoji))
