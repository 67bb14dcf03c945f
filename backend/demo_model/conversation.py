"""Reads what the script needs from a request, whichever API it came through.

Chat Completions sends ``messages`` (``role: tool`` messages carry tool output); the
Responses API sends ``input`` (a string, or items where ``function_call_output`` carries
tool output). The two shapes do not overlap, so one reader handles both and the script
never has to know which endpoint was called.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A request's messages (Chat Completions) or input (Responses), as decoded from JSON.
Messages = str | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class ToolOutput:
    call_id: str
    # The tool's name when the conversation still holds the call; "" if it does not.
    name: str
    output: str


@dataclass(frozen=True)
class Conversation:
    last_user_text: str
    # Tool outputs at the very end of the conversation, in order; empty unless the
    # conversation ends with tool output.
    trailing_tool_outputs: tuple[ToolOutput, ...]
    # All text in the request, for a plausible input-token count.
    all_text: str


def read_conversation(messages: Messages) -> Conversation:
    if isinstance(messages, str):
        return Conversation(last_user_text=messages, trailing_tool_outputs=(), all_text=messages)
    call_names: dict[str, str] = {}
    last_user = ""
    texts: list[str] = []
    for item in messages:
        for call_id, name in _tool_calls_in(item):
            call_names[call_id] = name
        text = content_text(item.get("content"))
        texts.append(text)
        if item.get("role") == "user":
            last_user = text
        if _is_tool_output(item):
            texts.append(_output_text(item))
    return Conversation(
        last_user_text=last_user,
        trailing_tool_outputs=_trailing_tool_outputs(messages, call_names),
        all_text="\n".join(texts),
    )


def tool_names(tools: object) -> tuple[str, ...]:
    """Names of the function tools offered, from either API's ``tools`` list."""
    if not isinstance(tools, list):
        return ()
    names: list[str] = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        # Chat Completions nests the name under "function"; Responses puts it on top.
        function = tool.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool.get("name")
        if isinstance(name, str):
            names.append(name)
    return tuple(names)


def content_text(content: object) -> str:
    """The text of a message's content: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def request_fingerprint(endpoint: str, messages: object, instructions: object = None) -> str:
    """A stable hash of what the client asked, so a retried request is recognised.

    Headers, ids and sampling settings are left out on purpose: a retry re-sends the same
    conversation but may differ in everything else.
    """
    canonical = json.dumps(
        [endpoint, messages, instructions], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_tool_output(item: Mapping[str, Any]) -> bool:
    return item.get("role") == "tool" or item.get("type") == "function_call_output"


def _output_text(item: Mapping[str, Any]) -> str:
    if item.get("type") == "function_call_output":
        output = item.get("output")
        return output if isinstance(output, str) else content_text(output)
    return content_text(item.get("content"))


def _tool_calls_in(item: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    if item.get("type") == "function_call":
        call_id, name = item.get("call_id"), item.get("name")
        if isinstance(call_id, str) and isinstance(name, str):
            yield call_id, name
    calls = item.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            if not isinstance(call, Mapping):
                continue
            function = call.get("function")
            name = function.get("name") if isinstance(function, Mapping) else None
            if isinstance(call.get("id"), str) and isinstance(name, str):
                yield call["id"], name


def _trailing_tool_outputs(
    messages: Sequence[Mapping[str, Any]], call_names: Mapping[str, str]
) -> tuple[ToolOutput, ...]:
    if not messages or not _is_tool_output(messages[-1]):
        return ()
    outputs: list[ToolOutput] = []
    for item in reversed(messages):
        if _is_tool_output(item):
            call_id = item.get("tool_call_id") or item.get("call_id") or ""
            call_id = call_id if isinstance(call_id, str) else ""
            outputs.append(
                ToolOutput(
                    call_id=call_id, name=call_names.get(call_id, ""), output=_output_text(item)
                )
            )
        elif item.get("type") in ("function_call", "reasoning"):
            # The Responses API lists the calls (and any reasoning) before their outputs;
            # they belong to the same tool round, so look past them.
            continue
        else:
            break
    return tuple(reversed(outputs))
