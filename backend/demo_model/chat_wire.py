"""The Chat Completions wire format of a reply: stream chunks and the non-streamed body.

Reasoning goes in ``delta.reasoning_content`` / ``message.reasoning_content``, the field
DeepSeek, vLLM and llama.cpp use; the OpenAI Agents SDK turns it into a reasoning item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from backend.demo_model.script import ReplyPlan
from backend.demo_model.streaming import Frame

# "separate": OpenAI's shape when stream_options.include_usage is true (one extra chunk
# with no choices). "final": usage on the finishing chunk, as several local servers do
# unasked, so clients that never ask still get counts. "none": the client said no.
UsageMode = Literal["separate", "final", "none"]

_DONE = Frame(b"data: [DONE]\n\n", "final")


@dataclass(frozen=True)
class ChatIds:
    completion_id: str
    created: int
    model: str


def usage_body(plan: ReplyPlan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": len(plan.reasoning_tokens)},
    }


def chat_stream_frames(plan: ReplyPlan, ids: ChatIds, usage_mode: UsageMode) -> Iterator[Frame]:
    # Every chunk shares this envelope; only the delta changes. Building the JSON around a
    # pre-encoded envelope keeps the per-token cost to one small json.dumps.
    head = (
        "data: "
        + json.dumps(
            {
                "id": ids.completion_id,
                "object": "chat.completion.chunk",
                "created": ids.created,
                "model": ids.model,
            }
        )[:-1]
        + ',"choices":[{"index":0,"delta":'
    ).encode()
    tail = b',"logprobs":null,"finish_reason":null}]}\n\n'
    dumps = json.dumps

    yield Frame(head + b'{"role":"assistant","content":""}' + tail, "meta")
    for token in plan.reasoning_tokens:
        yield Frame(head + dumps({"reasoning_content": token}).encode() + tail, "token")
    for token in plan.text_tokens:
        yield Frame(head + dumps({"content": token}).encode() + tail, "token")
    for index, call in enumerate(plan.tool_calls):
        for piece_index, piece in enumerate(call.argument_tokens):
            # The first piece also carries the id and name, as OpenAI's first tool chunk
            # does, so every tool chunk is one token and pacing stays exact.
            tool_delta: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
            if piece_index == 0:
                tool_delta.update(
                    id=call.call_id,
                    type="function",
                    function={"name": call.name, "arguments": piece},
                )
            yield Frame(head + dumps({"tool_calls": [tool_delta]}).encode() + tail, "token")

    finish: dict[str, Any] = {
        "id": ids.completion_id,
        "object": "chat.completion.chunk",
        "created": ids.created,
        "model": ids.model,
        "choices": [
            {"index": 0, "delta": {}, "logprobs": None, "finish_reason": plan.finish_reason}
        ],
    }
    if usage_mode == "final":
        finish["usage"] = usage_body(plan)
    yield Frame(b"data: " + dumps(finish).encode() + b"\n\n", "final")
    if usage_mode == "separate":
        usage_chunk = {
            "id": ids.completion_id,
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": ids.model,
            "choices": [],
            "usage": usage_body(plan),
        }
        yield Frame(b"data: " + dumps(usage_chunk).encode() + b"\n\n", "final")
    yield _DONE


def chat_completion_body(plan: ReplyPlan, ids: ChatIds) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": plan.text if plan.text or not plan.tool_calls else None,
        "refusal": None,
    }
    if plan.reasoning_tokens:
        message["reasoning_content"] = plan.reasoning
    if plan.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in plan.tool_calls
        ]
    return {
        "id": ids.completion_id,
        "object": "chat.completion",
        "created": ids.created,
        "model": ids.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
        ],
        "usage": usage_body(plan),
    }
