"""Code → HTML with pygments colours inlined, for Qt's rich text (which has no CSS classes).

The style follows the window: a dark one on a dark palette, a light one otherwise. The
block's background is the design tokens' ``code_bg``, close to each style's own, so the
colours keep the contrast their authors gave them and blocks match the rest of the app.

The HTML comes a line at a time, with where lexing may start over, so a code block that
is still streaming re-highlights only its last lines (see ``CodeBlock``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape

from pygments import format as format_tokens
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Comment, Error, String, Text, _TokenType
from pygments.util import ClassNotFound

from desktop.style.tokens import DARK, LIGHT

DARK_STYLE = "github-dark"
LIGHT_STYLE = "default"
PRE_OPEN = '<pre style="white-space: pre-wrap; margin: 0; line-height: 135%;">'
PRE_CLOSE = "</pre>"


@dataclass(frozen=True)
class CodeColours:
    background: str  # "#rrggbb"
    foreground: str  # for text no token colours


@dataclass(frozen=True)
class HighlightedLines:
    html: list[str]  # one entry per line of the code ("\n"-separated), spans closed
    # Per line: the lexer is (as far as its first token tells) in its initial state where
    # the line begins, so lexing may start over there. False inside multi-line strings and
    # comments, and for a last line with nothing lexed in it yet.
    resumable: list[bool]


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer:
    try:
        # The code shown is the code copied: no blank line dropped, no newline added.
        return (
            get_lexer_by_name(language, stripnl=False, ensurenl=False) if language else TextLexer()
        )
    except ClassNotFound:
        return TextLexer()


@lru_cache(maxsize=2)
def _formatter(style: str) -> HtmlFormatter:
    return HtmlFormatter(style=style, noclasses=True, nowrap=True)


@lru_cache(maxsize=2)
def colours(dark: bool) -> CodeColours:
    style = get_style_by_name(DARK_STYLE if dark else LIGHT_STYLE)
    text = style.style_for_token(Text)["color"]
    tokens = DARK if dark else LIGHT
    return CodeColours(background=tokens.code_bg, foreground=f"#{text}" if text else tokens.text)


def highlight_lines(code: str, language: str, dark: bool) -> HighlightedLines:
    count = code.count("\n") + 1
    lexer = _lexer(language)
    if lexer.name == TextLexer.name:
        # Nothing to colour: skip the lexer's per-character work.
        return HighlightedLines([escape(line) for line in code.split("\n")], [True] * count)
    tokens = list(lexer.get_tokens(code))
    html = format_tokens(tokens, _formatter(DARK_STYLE if dark else LIGHT_STYLE))
    # The formatter ends every line, the last one too, with a newline.
    lines = html.split("\n")[:count]
    lines += [""] * (count - len(lines))
    resumable = _resumable_lines(tokens)[:count]
    resumable += [False] * (count - len(resumable))
    return HighlightedLines(lines, resumable)


def highlight_html(code: str, language: str, dark: bool) -> str:
    """``code`` as a ``<pre>`` that wraps long lines, every token coloured inline."""
    return pre(highlight_lines(code, language, dark).html)


def pre(lines: list[str]) -> str:
    """One paragraph per line, blank first and last lines included: HTML drops the newline
    right after ``<pre>`` and Qt the one before ``</pre>``, so each gets one to drop."""
    return PRE_OPEN + "\n" + "\n".join(lines) + "\n" + PRE_CLOSE


def _inside_construct(token: _TokenType) -> bool:
    """Whether a line starting with this token may start inside a multi-line construct."""
    return token in String or token in Error or (token in Comment and token not in Comment.Single)


def _resumable_lines(tokens: list[tuple[_TokenType, str]]) -> list[bool]:
    """Per line, judged by the token its first character belongs to."""
    flags: list[bool] = []
    at_line_start = True
    for token, value in tokens:
        if not value:
            continue
        resumable = not _inside_construct(token)
        if at_line_start:
            flags.append(resumable)
        newlines = value.count("\n")
        if newlines:
            # Each line begun inside this token starts with one of its characters, except
            # a line begun by its last newline when nothing of the token follows it.
            ends_with_newline = value.endswith("\n")
            flags.extend([resumable] * (newlines - 1 if ends_with_newline else newlines))
            at_line_start = ends_with_newline
        else:
            at_line_start = False
    return flags
