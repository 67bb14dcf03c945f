"""Conversations as a Markdown transcript: what a user pastes somewhere or archives.

The JSON export (``store_types.Export``) is the one to read back; this one is for
people. Message text is Markdown already and is kept as it is, except that a code
fence it leaves open (a reply stopped mid-code-block) is closed, so it cannot swallow
the rest of the transcript. Everything this module wraps in a fence gets a fence
longer than any run of backticks inside it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo

from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.workflows.conversation_types import ToolCallRecord

# A tool's output (or arguments) longer than this is cut here: the JSON export has it whole.
MAX_TOOL_TEXT = 4_000
CONVERSATION_SEPARATOR = "\n\n---\n\n"

_BACKTICKS = re.compile(r"`+")
# A line that opens or closes a fenced code block (CommonMark: three or more backticks
# or tildes; a backtick fence's info string holds no backtick).
_FENCE_LINE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def export_markdown(convs: list[ExportedConversation], *, tz: tzinfo | None = None) -> str:
    """Several conversations in one document, each under its own ``#`` title and
    separated by a horizontal rule. ``tz``: for the dates (None: the local time zone)."""
    return CONVERSATION_SEPARATOR.join(
        conversation_markdown(conv, tz=tz).rstrip("\n") for conv in convs
    ) + ("\n" if convs else "")


def conversation_markdown(conv: ExportedConversation, *, tz: tzinfo | None = None) -> str:
    """One conversation: its title, when it began and with which model, then each turn."""
    blocks = [f"# {_heading_text(conv.title) or 'Untitled conversation'}"]
    facts = []
    if created := _date(conv.created_at, tz):
        facts.append(f"Created {created}")
    if conv.model:
        model = _inline(conv.model)
        facts.append(f"Model: {model} ({_inline(conv.provider)})" if conv.provider else model)
    if facts:
        blocks.append(" · ".join(facts))
    for turn in conv.turns:
        blocks += _turn_blocks(turn, conv.model)
    return "\n\n".join(blocks) + "\n"


def _turn_blocks(turn: ExportedTurn, conversation_model: str | None) -> list[str]:
    blocks = ["### You", _message(turn.user_text) or "*(empty message)*"]
    model = turn.model or conversation_model
    blocks.append(f"### Assistant ({_inline(model)})" if model else "### Assistant")
    if turn.reasoning.strip():
        blocks.append(
            f"<details><summary>Reasoning</summary>\n\n{_message(turn.reasoning)}\n\n</details>"
        )
    for call in turn.tool_calls:
        blocks += _tool_call_blocks(call)
    if turn.reply.strip():
        blocks.append(_message(turn.reply))
    if turn.status == "failed":
        message = turn.error.message if turn.error else "no reason was recorded"
        blocks.append(_quote(f"⚠ failed: {message}"))
    elif turn.status == "stopped":
        blocks.append("*(stopped)*")
    elif turn.status in ("queued", "running"):
        blocks.append(f"*({'waiting for a reply' if turn.status == 'queued' else 'unfinished'})*")
    elif not turn.reply.strip() and not turn.tool_calls:
        blocks.append("*(empty reply)*")
    return blocks


def _tool_call_blocks(call: ToolCallRecord) -> list[str]:
    facts = [{"done": "done", "error": "failed", "running": "did not finish"}[call.status]]
    if (duration := _duration(call)) is not None:
        facts.append(duration)
    if call.attempts > 1:
        facts.append(f"{call.attempts} attempts")
    blocks = [f"**Tool** {_code_span(call.name)} · {', '.join(facts)}"]
    arguments, language = _pretty_arguments(call.arguments)
    if arguments:
        blocks += _cut_fence(arguments, language)
    if call.output:
        blocks += ["Output:", *_cut_fence(call.output, whole_bytes=call.output_bytes)]
    elif call.output is not None:
        blocks.append("Output: *(none)*")
    if call.error:
        blocks.append(_quote(f"error: {call.error}"))
    return blocks


def _pretty_arguments(arguments: str) -> tuple[str, str]:
    """The arguments, indented when they are JSON; nothing when there are none."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments.strip(), ""
    if parsed in ({}, [], None, ""):
        return "", ""
    return json.dumps(parsed, indent=2, ensure_ascii=False), "json"


def _cut_fence(text: str, language: str = "", whole_bytes: int | None = None) -> list[str]:
    """``text`` fenced, cut to MAX_TOOL_TEXT characters (at a line end when one is near),
    and a note of what is missing."""
    if len(text) <= MAX_TOOL_TEXT:
        blocks = [_fence(text, language)]
        if whole_bytes and whole_bytes > len(text.encode()):
            blocks.append(f"*(cut: the whole output was {whole_bytes:,} bytes)*")
        return blocks
    head = text[:MAX_TOOL_TEXT]
    if (newline := head.rfind("\n")) > MAX_TOOL_TEXT - 400:
        head = head[:newline]
    more = len(text) - len(head)
    return [_fence(head, language), f"*… {more:,} more characters (the JSON export has them all)*"]


def _duration(call: ToolCallRecord) -> str | None:
    ms = call.duration_ms
    if ms is None and call.started_at is not None and call.ended_at is not None:
        ms = (call.ended_at - call.started_at) * 1000
    if ms is None or ms < 0:
        return None
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


def _date(ts: float, tz: tzinfo | None) -> str | None:
    if ts <= 0:
        return None
    try:
        moment = datetime.fromtimestamp(ts, tz) if tz else datetime.fromtimestamp(ts)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%d %H:%M")


def _message(text: str) -> str:
    """Message text as it is (it is Markdown), with a fence it left open closed."""
    text = text.strip("\n")
    opener: re.Match[str] | None = None
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if not match:
            continue
        fence = match["fence"]
        if opener is None:
            if not (fence[0] == "`" and "`" in match["info"]):
                opener = match
        elif (
            fence[0] == opener["fence"][0]
            and len(fence) >= len(opener["fence"])
            and not match["info"].strip()
        ):
            opener = None
    if opener is not None:
        # Indented as it was opened, so a fence left open in a list item closes there.
        text += f"\n{opener['indent']}{opener['fence']}"
    return text


def _fence(text: str, language: str = "") -> str:
    """``text`` in a code block whose fence no run of backticks inside it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip(chr(10))}\n{ticks}"


def _code_span(text: str) -> str:
    text = " ".join(text.split())
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip("\n").split("\n"))


def _inline(text: str) -> str:
    """Plain text on one line, its Markdown characters escaped."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _heading_text(text: str) -> str:
    text = _inline(text)
    # A heading's trailing #s would be read as its closing sequence.
    return text[:-1] + "\\#" if text.endswith("#") else text
