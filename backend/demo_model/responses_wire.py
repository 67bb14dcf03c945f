"""The Responses API wire format of a reply: the streamed events and the response object.

The event order follows what api.openai.com sends and what the openai client's stream
accumulator and the Agents SDK expect: ``response.created``, ``response.in_progress``,
then per output item ``output_item.added`` ... ``output_item.done`` (reasoning with
summary text deltas, then the message with text deltas, then function calls with
argument deltas), and ``response.completed`` carrying the full output and usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend.demo_model.script import ReplyPlan, ToolCallPlan
from backend.demo_model.streaming import Frame, FrameKind


@dataclass(frozen=True)
class ResponseIds:
    response_id: str
    created_at: int
    model: str
    # Echoed back like the real API does; the SDKs read nothing else from the request.
    instructions: str | None = None
    tool_choice: str = "auto"

    def item_id(self, prefix: str, index: int = 0) -> str:
        return f"{prefix}_{self.response_id.removeprefix('resp_')}_{index}"


def usage_body(plan: ReplyPlan) -> dict[str, Any]:
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": plan.output_tokens,
        "output_tokens_details": {"reasoning_tokens": len(plan.reasoning_tokens)},
        "total_tokens": plan.input_tokens + plan.output_tokens,
    }


def response_body(
    ids: ResponseIds,
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": ids.response_id,
        "object": "response",
        "created_at": ids.created_at,
        "status": status,
        "completed_at": ids.created_at if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": ids.instructions,
        "max_output_tokens": None,
        "metadata": {},
        "model": ids.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": ids.tool_choice,
        # Left empty rather than echoing the request's tools: nothing reads them back, and
        # an echo would have to re-validate every tool shape a client might send.
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
    }


def reasoning_item(ids: ResponseIds, plan: ReplyPlan) -> dict[str, Any]:
    return {
        "id": ids.item_id("rs"),
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": plan.reasoning}],
    }


def message_item(ids: ResponseIds, text: str, status: str = "completed") -> dict[str, Any]:
    content = [_output_text(text)] if status == "completed" else []
    return {
        "id": ids.item_id("msg"),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def function_call_item(
    ids: ResponseIds, index: int, call: ToolCallPlan, arguments: str, status: str
) -> dict[str, Any]:
    return {
        "id": ids.item_id("fc", index),
        "type": "function_call",
        "call_id": call.call_id,
        "name": call.name,
        "arguments": arguments,
        "status": status,
    }


def output_items(ids: ResponseIds, plan: ReplyPlan) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if plan.reasoning_tokens:
        items.append(reasoning_item(ids, plan))
    if plan.text_tokens:
        items.append(message_item(ids, plan.text))
    items.extend(
        function_call_item(ids, index, call, call.arguments, "completed")
        for index, call in enumerate(plan.tool_calls)
    )
    return items


def responses_stream_frames(plan: ReplyPlan, ids: ResponseIds) -> Iterator[Frame]:
    sequence = 0
    dumps = json.dumps

    def event(kind: FrameKind, body: dict[str, Any]) -> Frame:
        nonlocal sequence
        body["sequence_number"] = sequence
        sequence += 1
        return Frame(
            b"event: " + body["type"].encode() + b"\ndata: " + dumps(body).encode() + b"\n\n",
            kind,
        )

    in_progress = response_body(ids, status="in_progress", output=[], usage=None)
    yield event("meta", {"type": "response.created", "response": in_progress})
    yield event("meta", {"type": "response.in_progress", "response": in_progress})

    output_index = 0
    if plan.reasoning_tokens:
        item_id = ids.item_id("rs")
        place = {"item_id": item_id, "output_index": output_index}
        yield event(
            "meta",
            {
                "type": "response.output_item.added",
                "output_index": output_index,
                "item": {"id": item_id, "type": "reasoning", "summary": []},
            },
        )
        yield event(
            "meta",
            {
                "type": "response.reasoning_summary_part.added",
                **place,
                "summary_index": 0,
                "part": {"type": "summary_text", "text": ""},
            },
        )
        for token in plan.reasoning_tokens:
            yield event(
                "token",
                {
                    "type": "response.reasoning_summary_text.delta",
                    **place,
                    "summary_index": 0,
                    "delta": token,
                },
            )
        done_part = {"type": "summary_text", "text": plan.reasoning}
        yield event(
            "meta",
            {
                "type": "response.reasoning_summary_text.done",
                **place,
                "summary_index": 0,
                "text": plan.reasoning,
            },
        )
        yield event(
            "meta",
            {
                "type": "response.reasoning_summary_part.done",
                **place,
                "summary_index": 0,
                "part": done_part,
            },
        )
        yield event(
            "meta",
            {
                "type": "response.output_item.done",
                "output_index": output_index,
                "item": reasoning_item(ids, plan),
            },
        )
        output_index += 1

    if plan.text_tokens:
        item_id = ids.item_id("msg")
        place = {"item_id": item_id, "output_index": output_index, "content_index": 0}
        yield event(
            "meta",
            {
                "type": "response.output_item.added",
                "output_index": output_index,
                "item": message_item(ids, "", status="in_progress"),
            },
        )
        yield event(
            "meta", {"type": "response.content_part.added", **place, "part": _output_text("")}
        )
        for token in plan.text_tokens:
            yield event(
                "token",
                {"type": "response.output_text.delta", **place, "delta": token, "logprobs": []},
            )
        yield event(
            "meta",
            {"type": "response.output_text.done", **place, "text": plan.text, "logprobs": []},
        )
        yield event(
            "meta",
            {"type": "response.content_part.done", **place, "part": _output_text(plan.text)},
        )
        yield event(
            "meta",
            {
                "type": "response.output_item.done",
                "output_index": output_index,
                "item": message_item(ids, plan.text),
            },
        )
        output_index += 1

    for index, call in enumerate(plan.tool_calls):
        item_id = ids.item_id("fc", index)
        place = {"item_id": item_id, "output_index": output_index}
        yield event(
            "meta",
            {
                "type": "response.output_item.added",
                "output_index": output_index,
                "item": function_call_item(ids, index, call, "", "in_progress"),
            },
        )
        for piece in call.argument_tokens:
            yield event(
                "token", {"type": "response.function_call_arguments.delta", **place, "delta": piece}
            )
        yield event(
            "meta",
            {"type": "response.function_call_arguments.done", **place, "arguments": call.arguments},
        )
        yield event(
            "meta",
            {
                "type": "response.output_item.done",
                "output_index": output_index,
                "item": function_call_item(ids, index, call, call.arguments, "completed"),
            },
        )
        output_index += 1

    completed = response_body(
        ids, status="completed", output=output_items(ids, plan), usage=usage_body(plan)
    )
    yield event("final", {"type": "response.completed", "response": completed})


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
