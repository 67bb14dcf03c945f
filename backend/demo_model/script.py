"""What the demo model says: pure functions, no I/O.

:func:`plan_reply` gives the exact tokens, reasoning and tool calls the server will stream
for a request, so tests and benchmarks can know the reply before asking for it. One token
is one streamed delta; joining the tokens gives the text exactly.

Rules, on the last user message (directives removed) unless a directive overrides them:

1. The conversation ends with tool output: a final answer quoting each output verbatim.
2. ``[demo tool=...]``: exactly those tool calls (offered or not, so tests can force any).
3. ``[demo tokens=N]``: ``w1 `` ... ``wN `` as the text.
4. With the matching tool offered: files (``list_files`` / ``read_file``), the time or
   date (``current_time``), arithmetic (``calculator``). A matching intent whose tool was
   not offered gets a short explanation instead.
5. "code" / "python": Markdown with a fenced Python block.
6. Anything else: a friendly note that this is the offline demo model, echoing the prompt.

"think" / "reason" (or ``reasoning=N``) adds reasoning before whatever rule 1-6 produced.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from backend.demo_model.conversation import Messages, ToolOutput, read_conversation
from backend.demo_model.directives import Directives, parse_directives
from backend.demo_model.faults import FaultSpec

# Word pieces: each run of non-space characters with the spaces after it. A leading run of
# spaces is a token of its own. Every character lands in exactly one token, in order.
_TOKEN_RE = re.compile(r"\S+\s*|\s+")

_THINK_RE = re.compile(r"\b(think|thinking|reason|reasoning)\b")
_CODE_RE = re.compile(r"\b(code|python)\b")
_TIME_RE = re.compile(
    r"\b(what time|the time|current time|time now|time is it|the date|today'?s date|"
    r"date today|what day|which day|what is today|clock)\b"
)
_LIST_FILES_RE = re.compile(
    r"\b(list(?:\s+(?:the|my|all))?\s+(?:files|folder|directory)|what files|which files|ls)\b"
    r"(?:\s+(?:in|under|of|inside)\s+(?:the\s+)?(?P<path>[^\s?!,;]+))?"
)
# "read file X" takes any X; bare verbs only take something that looks like a path, so
# "read me a story" stays a chat message.
_READ_FILE_NAMED_RE = re.compile(
    r"\b(?:read|open|show)\s+(?:me\s+)?(?:the\s+)?file\s+"
    r"(?P<path>[`'\"][^`'\"]+[`'\"]|\S+)"
)
_READ_FILE_RE = re.compile(
    r"\b(?:read|open|show(?:\s+me)?|cat)\s+(?:the\s+)?"
    r"(?P<path>[`'\"][^`'\"]+[`'\"]|[\w~.-]*[./][\w~./-]*\w)"
)
# Numbers joined by at least one operator, as a Python-like calculator would take them.
_ARITHMETIC_RE = re.compile(
    r"[-(]*\d+(?:\.\d+)?\)*(?:\s*(?:\*\*|[-+*/%])\s*[-(]*\d+(?:\.\d+)?\)*)+"
)
_CALCULATE_RE = re.compile(
    r"\b(?:calculate|compute|evaluate|solve|what is|what's|how much is)\b\s*(?P<rest>.*)",
    re.DOTALL,
)

DEMO_MODEL_NOTE = (
    "I'm the DuraChat demo model: a scripted stand-in that works offline, with no API key."
)
SET_PROVIDER_HINT = (
    "To chat with a real model, open Settings and pick a provider: OpenAI with your API "
    "key, or any OpenAI-compatible server (Ollama, LM Studio, llama.cpp, vLLM) by base URL."
)
THINK_REASONING = (
    "The user asked me to think it through. I am the demo model, so my reasoning is "
    "scripted: read the question, pick the simplest useful answer, then write it down "
    "clearly."
)
CODE_REPLY = (
    "Here is a small Python example from the demo model:\n"
    "\n"
    "```python\n"
    "def fibonacci(count: int) -> list[int]:\n"
    '    """Return the first `count` Fibonacci numbers."""\n'
    "    numbers = [0, 1]\n"
    "    while len(numbers) < count:\n"
    "        numbers.append(numbers[-1] + numbers[-2])\n"
    "    return numbers[:count]\n"
    "\n"
    "\n"
    "print(fibonacci(10))\n"
    "```\n"
    "\n"
    "Running it prints `[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]`."
)
_ECHO_LIMIT = 60


@dataclass(frozen=True)
class ToolCallPlan:
    call_id: str
    name: str
    # JSON text of the arguments, exactly as streamed.
    arguments: str

    @property
    def argument_tokens(self) -> tuple[str, ...]:
        return split_tokens(self.arguments)


@dataclass(frozen=True)
class ReplyPlan:
    text_tokens: tuple[str, ...]
    reasoning_tokens: tuple[str, ...]
    tool_calls: tuple[ToolCallPlan, ...]
    # Pacing asked for by the message; None means the server's default.
    tokens_per_second: float | None
    # Fault asked for by the message; the server decides per attempt whether it strikes.
    fault: FaultSpec | None
    input_tokens: int
    # Token texts hold STAMP_PLACEHOLDER, to be replaced by the time each is written.
    stamped: bool = False

    @property
    def text(self) -> str:
        return "".join(self.text_tokens)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_tokens)

    @property
    def stream_token_count(self) -> int:
        """Deltas that carry content: reasoning, text and tool-argument pieces."""
        return (
            len(self.reasoning_tokens)
            + len(self.text_tokens)
            + sum(len(call.argument_tokens) for call in self.tool_calls)
        )

    @property
    def output_tokens(self) -> int:
        return self.stream_token_count

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    def emptied(self) -> ReplyPlan:
        """The same reply with nothing in it, for the ``empty`` fault."""
        return replace(self, text_tokens=(), reasoning_tokens=(), tool_calls=())


def split_tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN_RE.findall(text))


# Written where ``stamp=1`` puts a token's send time; the streamer replaces it as it
# writes the bytes (see :func:`backend.demo_model.streaming.paced_bytes`).
STAMP_PLACEHOLDER = "@STAMP@"


def stamped_tokens(count: int) -> tuple[str, ...]:
    return tuple(f"w{index}{STAMP_PLACEHOLDER} " for index in range(1, count + 1))


def read_stamp(token: str) -> tuple[int, float] | None:
    """``(index, send time)`` of a stamped token (``w7@1732398123.456789 ``), else None."""
    head, sep, when = token.strip().partition("@")
    if not sep or not head.startswith("w") or not head[1:].isdigit():
        return None
    try:
        return int(head[1:]), float(when)
    except ValueError:
        return None


def counted_tokens(count: int, prefix: str = "w") -> tuple[str, ...]:
    """``w1 `` ... ``wN ``: N tokens whose text anyone can rebuild from N alone."""
    return tuple(f"{prefix}{index} " for index in range(1, count + 1))


def estimate_tokens(text: str) -> int:
    """About four characters a token, like the rule of thumb for English with GPT models."""
    return max(1, math.ceil(len(text) / 4))


def plan_reply(
    messages: Messages, tools_offered: Iterable[str] = (), *, instructions: str | None = None
) -> ReplyPlan:
    """The exact reply the demo model streams for this conversation.

    ``messages`` is a Chat Completions ``messages`` list or a Responses ``input`` (string or
    items); ``tools_offered`` the names of the function tools in the request. Raises
    :class:`~backend.demo_model.directives.DirectiveError` for a malformed directive.
    """
    conversation = read_conversation(messages)
    directives, prompt = parse_directives(conversation.last_user_text)
    lowered = prompt.lower()

    calls: list[tuple[str, str]] = []
    if conversation.trailing_tool_outputs:
        # Checked first so a forced tool= cannot loop forever: after the tool round the
        # model always answers.
        text_tokens = split_tokens(_final_answer(conversation.trailing_tool_outputs))
    elif directives.tools or directives.tokens is not None:
        calls = [(tool.name, tool.arguments) for tool in directives.tools]
        count = directives.tokens or 0
        text_tokens = stamped_tokens(count) if directives.stamp else counted_tokens(count)
    else:
        text, calls = _natural_reply(prompt, lowered, frozenset(tools_offered))
        text_tokens = split_tokens(text)

    digest = _conversation_digest(messages)
    return ReplyPlan(
        text_tokens=text_tokens,
        reasoning_tokens=_reasoning(directives, lowered),
        tool_calls=tuple(
            ToolCallPlan(call_id=f"call_{digest}_{index}", name=name, arguments=arguments)
            for index, (name, arguments) in enumerate(calls)
        ),
        tokens_per_second=directives.tokens_per_second,
        fault=directives.fault,
        stamped=directives.stamp,
        input_tokens=estimate_tokens((instructions or "") + conversation.all_text),
    )


def _conversation_digest(messages: Messages) -> str:
    """Call ids derive from the conversation, so a retried request gets the same ids and a
    test can predict them from the messages it sends."""
    canonical = json.dumps(messages, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def _reasoning(directives: Directives, lowered: str) -> tuple[str, ...]:
    if directives.reasoning is not None:
        return counted_tokens(directives.reasoning, prefix="r")
    if _THINK_RE.search(lowered):
        return split_tokens(THINK_REASONING)
    return ()


def _natural_reply(
    prompt: str, lowered: str, offered: frozenset[str]
) -> tuple[str, list[tuple[str, str]]]:
    """Text or tool calls for a prompt without directives."""
    intent = _tool_intent(prompt, lowered)
    if intent is not None:
        name, arguments = intent
        if name in offered:
            return "", [(name, arguments)]
        return (
            f"I would use the `{name}` tool for that, but it is not enabled for this "
            f"conversation. {DEMO_MODEL_NOTE}",
            [],
        )
    if _CODE_RE.search(lowered):
        return CODE_REPLY, []
    if _THINK_RE.search(lowered):
        return (
            "After thinking it over: the short answer is that I am a scripted demo, so "
            "this is the best I can do. A real provider would give you a real answer.",
            [],
        )
    return f'Hi! {DEMO_MODEL_NOTE} You said: "{_echo(prompt)}". {SET_PROVIDER_HINT}', []


def _tool_intent(prompt: str, lowered: str) -> tuple[str, str] | None:
    """Which tool a prompt asks for, and its JSON arguments."""
    if match := _LIST_FILES_RE.search(lowered):
        path = _original_case(prompt, lowered, match, "path") or "."
        return "list_files", _json_object("path", _strip_path(path))
    if match := _READ_FILE_NAMED_RE.search(lowered) or _READ_FILE_RE.search(lowered):
        path = _original_case(prompt, lowered, match, "path")
        if path:
            return "read_file", _json_object("path", _strip_path(path))
    if _TIME_RE.search(lowered):
        return "current_time", "{}"
    expression = _arithmetic(lowered)
    if expression is not None:
        return "calculator", _json_object("expression", expression)
    return None


def _arithmetic(lowered: str) -> str | None:
    """An expression to calculate, if the prompt asks for one.

    Needs a verb ("calculate", "what is", ...) before the expression, or the expression to
    be the whole prompt, so a date like 2024-05-01 in passing is not sent to a calculator.
    """
    verb = _CALCULATE_RE.search(lowered)
    if verb and (match := _ARITHMETIC_RE.search(verb["rest"])):
        return match[0].strip()
    if match := _ARITHMETIC_RE.fullmatch(lowered.strip().rstrip("=?. ")):
        return match[0].strip()
    return None


def _original_case(prompt: str, lowered: str, match: re.Match[str], group: str) -> str:
    """Paths are case-sensitive: take the group's span from the prompt, not the lowercase."""
    if match[group] is None or len(prompt) != len(lowered):
        return match[group] or ""
    start, end = match.span(group)
    return prompt[start:end]


def _strip_path(path: str) -> str:
    return path.strip("`'\"").rstrip(".,;:!?") or "."


def _json_object(key: str, value: str) -> str:
    return json.dumps({key: value})


def _echo(prompt: str) -> str:
    collapsed = " ".join(prompt.split())
    if not collapsed:
        return "(an empty message)"
    if len(collapsed) <= _ECHO_LIMIT:
        return collapsed
    return collapsed[:_ECHO_LIMIT].rstrip() + "…"


def _final_answer(outputs: tuple[ToolOutput, ...]) -> str:
    parts = []
    for output in outputs:
        who = f"The `{output.name}` tool" if output.name else "The tool"
        parts.append(f"{who} returned:\n\n{output.output}\n\n")
    return "".join(parts) + "That is the result (the demo model quotes tool output verbatim)."
