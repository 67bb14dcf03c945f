"""Splitting a reply's Markdown into prose and fenced code blocks.

Code blocks get a widget of their own (highlighting, a Copy button), so the reply is cut
at its fences: ```` ``` ```` or ``~~~`` fences of three or more, indented at most three
spaces, as CommonMark defines them. A block whose closing fence has not arrived yet (the
reply is still streaming) runs to the end of the text. No Qt here: pure and cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_OPEN_RE = re.compile(r" {0,3}(`{3,}|~{3,})([^\n]*)")
_CLOSE_RE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")


@dataclass(frozen=True)
class Segment:
    kind: Literal["prose", "code"]
    text: str  # prose: its Markdown; code: the code itself, without the fences
    start: int  # offset in the reply where the segment begins (its opening fence for code)
    language: str = ""
    closed: bool = True  # code: the closing fence has arrived


def split_reply(text: str, start: int = 0) -> list[Segment]:
    """The segments of ``text[start:]``, ``start`` being the beginning of a line outside
    any code block (as every segment's ``start`` is). Whitespace-only prose is dropped."""
    segments: list[Segment] = []
    prose_start = pos = start
    while pos < len(text):
        line_end = _line_end(text, pos)
        opening = _OPEN_RE.fullmatch(text, pos, _content_end(text, line_end))
        # A backtick fence's info string may not hold a backtick: ```a``` is inline code.
        if opening is None or (opening[1][0] == "`" and "`" in opening[2]):
            pos = line_end
            continue
        _add_prose(segments, text, prose_start, pos)
        fence, indent = opening[1], len(opening[0]) - len(opening[0].lstrip(" "))
        code, after, closed = _read_code(text, line_end, fence, indent)
        language = (opening[2].split() or [""])[0]
        segments.append(Segment("code", code, pos, language, closed))
        prose_start = pos = after
    _add_prose(segments, text, prose_start, len(text))
    return segments


def _line_end(text: str, pos: int) -> int:
    """The offset just past the line starting at ``pos`` (its newline included)."""
    newline = text.find("\n", pos)
    return len(text) if newline == -1 else newline + 1


def _content_end(text: str, line_end: int) -> int:
    return line_end - 1 if line_end > 0 and text[line_end - 1] == "\n" else line_end


def _add_prose(segments: list[Segment], text: str, start: int, end: int) -> None:
    if text[start:end].strip():
        segments.append(Segment("prose", text[start:end], start))


def _read_code(text: str, pos: int, fence: str, indent: int) -> tuple[str, int, bool]:
    """The code after an opening fence: (code, offset after the closing fence, closed)."""
    lines: list[str] = []
    while pos < len(text):
        line_end = _line_end(text, pos)
        content_end = _content_end(text, line_end)
        closing = _CLOSE_RE.fullmatch(text, pos, content_end)
        if closing is not None and closing[1][0] == fence[0] and len(closing[1]) >= len(fence):
            return "".join(lines).removesuffix("\n"), line_end, True
        line = text[pos:line_end]
        # Content lines lose up to the opening fence's own indentation (CommonMark).
        stripped = len(line) - len(line.lstrip(" "))
        lines.append(line[min(indent, stripped) :])
        pos = line_end
    return "".join(lines).removesuffix("\n"), pos, False
