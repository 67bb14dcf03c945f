"""Test directives written inside a user message: ``[demo key=value ...]``.

Keys:

- ``tokens=N``: a deterministic N-token text reply (``w1 w2 ... wN `` as N tokens).
- ``tps=N``: pacing for this reply in tokens per second (0 = as fast as possible).
- ``reasoning=N``: N reasoning tokens (``r1 ... rN ``) before the answer.
- ``tool=NAME`` or ``tool=NAME:{JSON object}``: force a tool call (repeatable).
- ``fault=SPEC``: inject a fault, see :mod:`backend.demo_model.faults`.
- ``stamp=1``: each ``tokens=`` token carries the wall-clock time it was written to the
  wire (``w7@1732398123.456789 ``), so a benchmark can time each chunk to its reader.

The JSON of ``tool=`` may contain spaces and brackets; it is read with a real JSON decoder
rather than split on whitespace. Anything malformed raises :class:`DirectiveError`, which
the server answers with a 400, so a typo in a test fails loudly instead of being ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from backend.demo_model.faults import FaultSpec, FaultSyntaxError

DIRECTIVE_OPEN = "[demo"

_KEY_RE = re.compile(r"([a-z_]+)=")
_TOOL_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PLAIN_VALUE_RE = re.compile(r"[^\s\]]*")
_DIGITS_RE = re.compile(r"[0-9]+")


class DirectiveError(ValueError):
    """A ``[demo ...]`` block that cannot be parsed."""


@dataclass(frozen=True)
class ForcedToolCall:
    name: str
    # JSON text exactly as written in the directive, so tests can compare it verbatim.
    arguments: str


@dataclass(frozen=True)
class Directives:
    tokens: int | None = None
    tokens_per_second: float | None = None
    reasoning: int | None = None
    tools: tuple[ForcedToolCall, ...] = field(default=())
    fault: FaultSpec | None = None
    stamp: bool = False


@dataclass
class _Builder:
    """Mutable collector for one parse; frozen into :class:`Directives` at the end."""

    tokens: int | None = None
    tokens_per_second: float | None = None
    reasoning: int | None = None
    tools: list[ForcedToolCall] = field(default_factory=list)
    fault: FaultSpec | None = None
    stamp: bool = False

    def freeze(self) -> Directives:
        return Directives(
            tokens=self.tokens,
            tokens_per_second=self.tokens_per_second,
            reasoning=self.reasoning,
            tools=tuple(self.tools),
            fault=self.fault,
            stamp=self.stamp,
        )


def parse_directives(text: str) -> tuple[Directives, str]:
    """Return the directives found in ``text`` and the text with the blocks removed.

    Several blocks are merged in order: later keys win, ``tool=`` calls accumulate.
    """
    builder = _Builder()
    remaining: list[str] = []
    pos = 0
    while (start := text.find(DIRECTIVE_OPEN, pos)) != -1:
        after = start + len(DIRECTIVE_OPEN)
        # "[demonstration]" is prose, not a directive.
        if after < len(text) and not (text[after].isspace() or text[after] == "]"):
            remaining.append(text[pos:after])
            pos = after
            continue
        remaining.append(text[pos:start])
        pos = _parse_block(text, after, builder)
    remaining.append(text[pos:])
    return builder.freeze(), "".join(remaining)


def _parse_block(text: str, pos: int, builder: _Builder) -> int:
    """Parse one block's ``key=value`` pairs from ``pos``; return the index after ``]``."""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise DirectiveError("unterminated [demo ...] directive: missing ']'")
        if text[pos] == "]":
            return pos + 1
        key_match = _KEY_RE.match(text, pos)
        if key_match is None:
            raise DirectiveError(f"bad [demo ...] directive near {text[pos : pos + 20]!r}")
        key = key_match[1]
        pos = key_match.end()
        if key == "tool":
            call, pos = _parse_tool(text, pos)
            builder.tools.append(call)
            continue
        value_match = _PLAIN_VALUE_RE.match(text, pos)
        assert value_match is not None  # the pattern matches the empty string
        pos = value_match.end()
        _apply(builder, key, value_match[0])


def _parse_tool(text: str, pos: int) -> tuple[ForcedToolCall, int]:
    name_match = _TOOL_NAME_RE.match(text, pos)
    if name_match is None:
        raise DirectiveError("tool= needs a tool name of letters, digits, '_' or '-'")
    name = name_match[0]
    pos = name_match.end()
    if pos >= len(text) or text[pos] != ":":
        return ForcedToolCall(name=name, arguments="{}"), pos
    pos += 1
    try:
        parsed, end = json.JSONDecoder().raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise DirectiveError(f"tool={name}: arguments are not valid JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise DirectiveError(f"tool={name}: arguments must be a JSON object")
    return ForcedToolCall(name=name, arguments=text[pos:end]), end


def _apply(builder: _Builder, key: str, value: str) -> None:
    if key == "tokens":
        builder.tokens = _count(key, value)
    elif key == "reasoning":
        builder.reasoning = _count(key, value)
    elif key == "tps":
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not 0 <= rate < float("inf"):
            raise DirectiveError(f"tps= needs a non-negative number, got {value!r}")
        builder.tokens_per_second = rate
    elif key == "fault":
        try:
            builder.fault = FaultSpec.parse(value)
        except FaultSyntaxError as exc:
            raise DirectiveError(str(exc)) from None
    elif key == "stamp":
        if value not in ("0", "1"):
            raise DirectiveError(f"stamp= needs 0 or 1, got {value!r}")
        builder.stamp = value == "1"
    else:
        raise DirectiveError(
            f"unknown [demo ...] key {key!r} (known: tokens tps reasoning tool fault stamp)"
        )


def _count(key: str, value: str) -> int:
    if not _DIGITS_RE.fullmatch(value):
        raise DirectiveError(f"{key}= needs a whole number >= 0, got {value!r}")
    return int(value)
