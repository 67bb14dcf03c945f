"""The Markdown transcript: what a user reads after pasting or archiving it.

Where the structure matters (no text swallowed by a code block), the transcript is
read back with a real Markdown parser: Qt's (md4c), which the app ships anyway.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.client.markdown_export import (
    CONVERSATION_SEPARATOR,
    MAX_TOOL_TEXT,
    conversation_markdown,
    export_markdown,
)
from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.workflows.conversation_types import ToolCallRecord, TurnError

CREATED = datetime(2026, 11, 30, 14, 5, tzinfo=UTC).timestamp()


def conversation(*turns: ExportedTurn, **fields) -> ExportedConversation:
    defaults = {
        "conversation_id": "c1",
        "title": "Planning the trip",
        "created_at": CREATED,
        "updated_at": CREATED + 60,
        "model": "gpt-5",
        "provider": "openai",
    }
    return ExportedConversation(**(defaults | fields), turns=list(turns))


def turn(n: int = 1, **fields) -> ExportedTurn:
    defaults = {"turn_id": f"t{n}", "user_text": f"question {n}", "status": "done"}
    return ExportedTurn(**(defaults | {"reply": f"answer {n}"} | fields))


def blocks(markdown: str) -> list[tuple[str, str]]:
    """The document as a Markdown parser sees it: (kind, text) per block, where kind is
    h1..h6, code, quote or p."""
    gui = pytest.importorskip("PySide6.QtGui")
    document = gui.QTextDocument()
    document.setMarkdown(markdown)
    found = []
    block = document.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.headingLevel():
            kind = f"h{fmt.headingLevel()}"
        elif fmt.nonBreakableLines():  # a code block's lines
            kind = "code"
        elif fmt.intProperty(gui.QTextFormat.Property.BlockQuoteLevel):
            kind = "quote"
        else:
            kind = "p"
        found.append((kind, block.text()))
        block = block.next()
    return found


def headings(markdown: str) -> list[str]:
    return [f"{kind} {text}" for kind, text in blocks(markdown) if kind.startswith("h")]


def test_a_conversation_reads_as_a_transcript():
    md = conversation_markdown(
        conversation(
            turn(1, user_text="Where should we go?", reply="**Lisbon**, then:\n\n- Porto\n- Braga"),
            turn(2, model="gpt-5-mini"),
        ),
        tz=UTC,
    )
    assert md.startswith(
        "# Planning the trip\n\nCreated 2026-11-30 14:05 · Model: gpt-5 (openai)\n"
    )
    # Message text is Markdown already: kept as it is.
    assert "**Lisbon**, then:\n\n- Porto\n- Braga" in md
    assert md.index("Where should we go?") < md.index("**Lisbon**") < md.index("question 2")
    assert headings(md) == [
        "h1 Planning the trip",
        "h3 You",
        "h3 Assistant (gpt-5)",
        "h3 You",
        "h3 Assistant (gpt-5-mini)",
    ]
    assert md.endswith("answer 2\n")


def test_the_date_is_local_time_unless_told_otherwise():
    local = datetime.fromtimestamp(CREATED).strftime("%Y-%m-%d %H:%M")
    assert f"Created {local}" in conversation_markdown(conversation())


def test_unknown_model_and_date_are_left_out():
    md = conversation_markdown(conversation(turn(), model=None, provider=None, created_at=0))
    assert "Created" not in md and "Model" not in md
    assert "### Assistant\n" in md


def test_a_title_is_plain_text_on_one_line():
    md = conversation_markdown(conversation(title="Fix *all*\nthe [bugs] in C#"))
    assert md.startswith("# Fix \\*all\\* the \\[bugs\\] in C\\#\n")
    assert headings(md) == ["h1 Fix *all* the [bugs] in C#"]
    assert conversation_markdown(conversation(title="")).startswith("# Untitled conversation\n")


def test_reasoning_is_folded_away():
    md = conversation_markdown(conversation(turn(reasoning="First, the budget.")))
    assert "<details><summary>Reasoning</summary>\n\nFirst, the budget.\n\n</details>" in md
    assert md.index("</details>") < md.index("answer 1")
    assert "Reasoning" not in conversation_markdown(conversation(turn(reasoning="  \n")))


def test_tool_calls_show_name_status_duration_arguments_and_output():
    calls = [
        ToolCallRecord(
            call_id="a",
            name="web_search",
            arguments='{"query":"Lisbon in March","limit":3}',
            status="done",
            output="17 °C, some rain",
            duration_ms=1234,
        ),
        ToolCallRecord(
            call_id="b",
            name="run_shell",
            arguments="ls -la",
            status="error",
            error="permission denied",
            started_at=100.0,
            ended_at=100.25,
            attempts=3,
        ),
        ToolCallRecord(call_id="c", name="clock", arguments="{}", status="done", output=""),
    ]
    md = conversation_markdown(conversation(turn(tool_calls=calls)))
    pretty = json.dumps({"query": "Lisbon in March", "limit": 3}, indent=2, ensure_ascii=False)
    assert "**Tool** `web_search` · done, 1.2 s" in md
    assert f"```json\n{pretty}\n```" in md
    assert "Output:\n\n```\n17 °C, some rain\n```" in md
    assert "**Tool** `run_shell` · failed, 250 ms, 3 attempts\n\n```\nls -la\n```" in md
    assert "> error: permission denied" in md
    # No arguments: no empty block.
    assert "**Tool** `clock` · done\n\nOutput: *(none)*" in md
    assert md.index("web_search") < md.index("run_shell") < md.index("answer 1")


def test_a_long_output_is_cut_with_a_note():
    output = "\n".join(f"line {i:05d}" for i in range(2000))  # 21,999 characters
    call = ToolCallRecord(call_id="a", name="read", arguments="{}", status="done", output=output)
    md = conversation_markdown(conversation(turn(tool_calls=[call])))
    code = "\n".join(text for kind, text in blocks(md) if kind == "code")
    assert code.startswith("line 00000\n")
    assert MAX_TOOL_TEXT - 400 < len(code) <= MAX_TOOL_TEXT
    assert len(code.splitlines()[-1]) == len("line 00000")  # cut at a line's end
    more = len(output) - len(code)
    assert f"*… {more:,} more characters (the JSON export has them all)*" in md
    # A record whose output was cut by the store says how big the whole one was.
    call = call.model_copy(update={"output": "head", "output_bytes": 50_000})
    md = conversation_markdown(conversation(turn(tool_calls=[call])))
    assert "*(cut: the whole output was 50,000 bytes)*" in md


def test_fences_are_longer_than_any_backticks_inside():
    output = "README:\n```bash\nmake\n```\nand ```` four"
    call = ToolCallRecord(call_id="a", name="cat", arguments="x", status="done", output=output)
    md = conversation_markdown(conversation(turn(tool_calls=[call]), turn(2)))
    assert f"`````\n{output}\n`````" in md
    assert [text for kind, text in blocks(md) if kind == "code"][1:] == output.splitlines()
    assert headings(md)[-2:] == ["h3 You", "h3 Assistant (gpt-5)"]
    name = conversation_markdown(
        conversation(turn(tool_calls=[call.model_copy(update={"name": "a`b"})]))
    )
    assert "**Tool** ``a`b``" in name


def test_a_reply_stopped_inside_a_code_block_does_not_swallow_the_rest():
    cut = "Run this:\n\n```python\nfor i in range(3):\n    print(i"
    in_list = "Steps:\n\n1. Install:\n   ```bash\n   apt install"
    md = conversation_markdown(
        conversation(
            turn(1, reply=cut, status="stopped"),
            turn(2, reply=in_list, status="stopped"),
            turn(3, user_text="~~~\nquoted fence left open"),
        )
    )
    assert f"{cut}\n```\n\n*(stopped)*" in md
    assert f"{in_list}\n   ```\n\n*(stopped)*" in md
    assert "~~~\nquoted fence left open\n~~~" in md
    assert headings(md) == ["h1 Planning the trip"] + ["h3 You", "h3 Assistant (gpt-5)"] * 3
    assert ("p", "(stopped)") in blocks(md)
    # A closed block is left alone, whatever it holds.
    closed = "```\n~~~\n```\n\n````md\n```\n````"
    assert conversation_markdown(conversation(turn(reply=closed))).endswith(f"\n\n{closed}\n")


def test_failed_stopped_and_unanswered_turns_say_so():
    md = conversation_markdown(
        conversation(
            turn(
                1,
                reply="",
                status="failed",
                error=TurnError(kind="rate_limited", message="Too many requests\ntry later"),
            ),
            turn(2, reply="Half an ans", status="stopped"),
            turn(3, reply="", status="queued"),
            turn(4, reply=""),
        )
    )
    assert "> ⚠ failed: Too many requests\n> try later" in md
    assert ("quote", "⚠ failed: Too many requests try later") in blocks(md)
    assert "Half an ans\n\n*(stopped)*" in md
    assert "*(waiting for a reply)*" in md
    assert md.rstrip().endswith("*(empty reply)*")


def test_several_conversations_are_separated():
    first = conversation(turn(), title="First")
    second = conversation(turn(), title="Second", conversation_id="c2")
    md = export_markdown([first, second], tz=UTC)
    assert md == (
        conversation_markdown(first, tz=UTC).rstrip("\n")
        + CONVERSATION_SEPARATOR
        + conversation_markdown(second, tz=UTC)
    )
    assert [h for h in headings(md) if h.startswith("h1")] == ["h1 First", "h1 Second"]
    assert export_markdown([]) == ""
