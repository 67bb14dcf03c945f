"""The worker's payload converter reads a model call's input as the plugin's own does
(with lists where the plugin's leaves one-shot iterators)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agents import ModelSettings
from temporalio.openai_agents import OpenAIPayloadConverter
from temporalio.openai_agents._invoke_model_activity import ActivityModelInput

from backend.worker.payload_converter import WorkerPayloadConverter

CONVERSATION = [
    {"role": "user", "content": "what is 6 * 7?"},
    {
        "type": "function_call",
        "call_id": "call_1",
        "name": "calculator",
        "arguments": '{"expression": "6 * 7"}',
        "id": "fc_1",
        "status": "completed",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "It is 42 ✓", "annotations": []}],
    },
    {"role": "user", "content": 'and "quoted" ünïcode?'},
]


def _model_input(conversation: object) -> ActivityModelInput:
    return ActivityModelInput(
        model_name="durachat-demo",
        system_instructions="Be brief.",
        input=conversation,  # type: ignore[typeddict-item]
        model_settings=ModelSettings(temperature=0.5, max_tokens=100),
        tools=[],
        handoffs=[],
        tracing=0,  # type: ignore[typeddict-item]
    )


def _plain(value: Any) -> Any:
    """Validation turns an ``Iterable`` field (an assistant message's content) into a
    one-shot iterator; read it out to compare."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | Iterator):
        return [_plain(v) for v in value]
    return value


def test_a_model_call_input_reads_the_same_as_with_the_plugin_converter() -> None:
    plugin, ours = OpenAIPayloadConverter(), WorkerPayloadConverter()
    for conversation in (CONVERSATION, "just a string prompt"):
        payloads = plugin.to_payloads([_model_input(conversation)])
        (expected,) = plugin.from_payloads(payloads, [ActivityModelInput])
        (got,) = ours.from_payloads(payloads, [ActivityModelInput])
        assert got == {**expected, "input": _plain(expected["input"])}
        assert got["input"] == conversation
        assert isinstance(got["model_settings"], ModelSettings)


def test_other_payloads_read_as_before() -> None:
    ours = WorkerPayloadConverter()
    payloads = ours.to_payloads(["text", {"a": 1}])
    assert ours.from_payloads(payloads, [str, dict]) == ["text", {"a": 1}]
