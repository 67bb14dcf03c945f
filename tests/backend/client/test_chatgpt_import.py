"""Importing a ChatGPT data export: what the user finds in DuraChat afterwards.

``data/chatgpt_conversations.json`` is written by hand after the real format: a
regenerated reply (two children, ``current_node`` on the second), a hidden system
message and hidden custom instructions, a picture with an attached file, code run by
the assistant and its output, a web search, reasoning, missing times and titles, and
a conversation where the user never wrote.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
import time
import zipfile
from pathlib import Path

import pytest

from backend.client.chatgpt_import import ChatGPTImport, parse_chatgpt_export
from backend.client.markdown_export import export_markdown
from backend.client.store_types import Export

DATA = Path(__file__).parent / "data" / "chatgpt_conversations.json"
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # as client.api checks it


@pytest.fixture
def raw() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def parse(value: object) -> ChatGPTImport:
    return parse_chatgpt_export(json.dumps(value))


def chain(length: int) -> dict:
    """A conversation of ``length`` turns, each message the child of the one before."""
    mapping: dict[str, dict] = {"root": {"id": "root", "message": None, "parent": None}}
    parent = "root"
    for i in range(length * 2):
        role = "user" if i % 2 == 0 else "assistant"
        node = f"m{i}"
        mapping[node] = {
            "id": node,
            "parent": parent,
            "children": [],
            "message": {
                "id": node,
                "author": {"role": role},
                "create_time": 1_700_000_000 + i,
                "content": {"content_type": "text", "parts": [f"{role} {i // 2}"]},
            },
        }
        mapping[parent]["children"] = [node]
        parent = node
    return {"title": "Long", "create_time": 1_700_000_000, "mapping": mapping, "id": "long"}


def test_the_export_becomes_conversations_in_order():
    result = parse_chatgpt_export(DATA.read_bytes())
    assert [c.title for c in result.conversations] == [
        "Regex for ISO dates",
        "Monthly sales chart",
        "What is the weather like in Lisbon in March?",  # no title: the first message
    ]
    assert (result.skipped, result.empty) == (0, 1)  # "New chat": the user never wrote
    assert [c.conversation_id for c in result.conversations] == [
        "chatgpt-6555a1b2-0c3d-8000-9e4f-1234567890ab",
        "chatgpt-66e0b7c8-1111-8000-aaaa-bbbbccccdddd",
        "chatgpt-67aa0000-2222-8000-bbbb-ccccddddeeee",
    ]
    assert [len(c.turns) for c in result.conversations] == [2, 1, 1]
    # What DuraChat's own import reads back.
    Export.model_validate_json(
        Export(exported_at=0, conversations=result.conversations).model_dump_json()
    )


def test_the_branch_the_user_last_saw_is_imported():
    regex = parse_chatgpt_export(DATA.read_bytes()).conversations[0]
    first, second = regex.turns
    assert first.turn_id == "chatgpt-aaa2b3c4-0003-4d5e-8f90-a1b2c3d40003"
    assert first.user_text == "How do I match an ISO date like 2023-11-14 with a regex?"
    assert first.reply.startswith("Use anchors and fixed widths:\n\n```python\nimport re\n")
    assert first.reply.endswith("This checks the shape, not whether the date exists.")
    assert "FIRST DRAFT" not in first.reply  # the regenerated-away reply
    assert second.user_text == "And how would I check that the date really exists?"
    assert second.reply.startswith("Parse it: `datetime.date.fromisoformat")
    # Hidden: the system message and the custom instructions.
    assert "I write Python" not in first.user_text + first.reply
    assert {t.status for t in regex.turns} == {"done"}


def test_another_current_node_imports_the_other_branch(raw):
    raw[0]["current_node"] = "b1c2d3e4-0004-4f00-9a00-000000000004"
    (turn,) = parse(raw[:1]).conversations[0].turns
    assert turn.reply == "FIRST DRAFT: use \\d+-\\d+-\\d+ and hope for the best."
    assert turn.model == "gpt-4"


def test_without_a_current_node_the_newest_reply_is_taken(raw):
    del raw[0]["current_node"]
    turns = parse(raw[:1]).conversations[0].turns
    assert [t.user_text[:13] for t in turns] == ["How do I matc", "And how would"]


def test_reasoning_models_and_times():
    regex, sales, weather = parse_chatgpt_export(DATA.read_bytes()).conversations
    first, second = regex.turns
    assert second.reasoning == (
        "**Choosing a validation approach**\n\n"
        "A regex cannot know month lengths; parsing with datetime does."
    )
    assert "Thought for" not in second.reasoning + second.reply
    assert (first.model, second.model, regex.model) == ("gpt-4o", "o3", "o3")
    assert {regex.provider, first.provider} == {"openai"}
    assert (regex.created_at, regex.updated_at) == (1700000000.5, 1700000300.25)
    assert (first.queued_at, first.started_at, first.ended_at) == (
        1700000010.123,
        1700000010.123,
        1700000042.75,
    )
    # The last reply has no time: the turn ended with the code's output.
    assert sales.turns[0].ended_at == 1710000012.0
    # No time for the conversation nor the question: the first one known.
    assert weather.created_at == weather.turns[0].queued_at == 1720000400.0
    assert weather.updated_at == 1720000500.0


def test_pictures_files_code_and_output_show_in_the_text():
    _regex, sales, weather = parse_chatgpt_export(DATA.read_bytes()).conversations
    (turn,) = sales.turns
    assert turn.user_text == (
        "[image]\n\n"
        "What is the total of the numbers in this table? The CSV is attached too.\n\n"
        "[attachment: sales.csv]"
    )
    assert turn.reply == (
        "```python\nimport pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\n"
        "df['amount'].sum()\n```\n\n"
        "```\n1234.5\n```\n\n"
        "The amounts add up to **1,234.50**."
    )
    # A web search: its call and results are left out, the answer stays.
    assert weather.turns[0].reply == "Mild: around 17 °C by day, with some rain."


def test_a_later_reply_in_durachat_knows_what_was_said():
    regex = parse_chatgpt_export(DATA.read_bytes()).conversations[0]
    first = regex.turns[0]
    assert first.items == [
        {"role": "user", "content": first.user_text},
        {"role": "assistant", "content": first.reply},
    ]


def test_an_imported_conversation_exports_as_markdown():
    md = export_markdown(parse_chatgpt_export(DATA.read_bytes()).conversations)
    assert md.startswith("# Regex for ISO dates\n")
    assert "### Assistant (gpt-4o)\n\nUse anchors" in md
    assert "<details><summary>Reasoning</summary>" in md
    assert "# Monthly sales chart" in md


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "it is not JSON"),
        (b"<html>ChatGPT</html>", "it is not JSON"),
        (b"\x80\x81 not text", "it is not text"),
        ("{}", "it holds a JSON object, not a list of conversations"),
        ("42", "it holds a JSON int, not a list of conversations"),
        ('{"format": "durachat-export", "conversations": []}', "it is a DuraChat export"),
        ('[1, "two"]', "none of its 2 entries has a message 'mapping'"),
        ('[{"title": "x", "create_time": 1}]', "none of its 1 entries has a message 'mapping'"),
        (b"PK\x03\x04 broken", "the zip cannot be read"),
    ],
)
def test_what_is_not_a_chatgpt_export_is_refused_in_one_line(data, why):
    with pytest.raises(ValueError) as caught:
        parse_chatgpt_export(data)
    message = str(caught.value)
    assert message.startswith("this is not a ChatGPT conversations.json: ")
    assert why in message
    assert "\n" not in message


def test_a_malformed_conversation_costs_only_itself(raw, caplog):
    broken = copy.deepcopy(raw[1])
    broken["mapping"] = "oops"
    raw[1:1] = ["not a conversation", broken, {"title": "no mapping"}]
    with caplog.at_level(logging.WARNING, logger="backend.client.chatgpt_import"):
        result = parse(raw)
    assert [c.title for c in result.conversations] == [
        "Regex for ISO dates",
        "Monthly sales chart",
        "What is the weather like in Lisbon in March?",
    ]
    assert (result.skipped, result.empty) == (3, 1)
    assert "3 malformed conversation(s) skipped" in caplog.text


def test_odd_but_readable_input(raw):
    assert parse([]) == ChatGPTImport()
    # A UTF-8 byte order mark; one conversation on its own.
    assert len(parse_chatgpt_export("\ufeff" + json.dumps(raw)).conversations) == 3
    assert parse(raw[0]).conversations[0].title == "Regex for ISO dates"
    # Messages that are odd: no author, no content, a part that is a number.
    mapping = raw[1]["mapping"]
    mapping["u-2-1"]["message"]["author"] = None
    mapping["a-2-4"]["message"]["content"] = {"content_type": "text", "parts": [7, "ok"]}
    assert parse(raw[:2]).conversations[1:] == []  # no user left: not imported
    mapping["u-2-1"]["message"]["author"] = {"role": "user"}
    mapping["t-2-3"]["message"]["content"] = None
    assert parse(raw[1:2]).conversations[0].turns[0].reply.endswith("```\n\nok")


def test_the_zip_chatgpt_mails_is_read_too(raw):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("chat.html", "<html></html>")
        archive.writestr("conversations.json", json.dumps(raw[:2]))
    assert len(parse_chatgpt_export(buffer.getvalue()).conversations) == 2
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("user.json", "{}")
    with pytest.raises(ValueError, match=r"the zip holds no conversations\.json"):
        parse_chatgpt_export(buffer.getvalue())


def test_ids_are_safe_stable_and_unique(raw):
    weird = copy.deepcopy(raw[2])
    weird["conversation_id"] = weird["id"] = "a/b c?" + "x" * 300
    no_id = copy.deepcopy(raw[2])
    del no_id["conversation_id"], no_id["id"]
    convs = parse([weird, no_id, raw[2], raw[2]]).conversations
    ids = [c.conversation_id for c in convs]
    assert all(CONVERSATION_ID.fullmatch(i) for i in ids)
    assert ids[0].startswith("chatgpt-a_b_c_xxx") and len(ids[0]) == 200
    assert ids[1] == parse([no_id]).conversations[0].conversation_id  # the same every time
    assert ids[2:] == [
        "chatgpt-67aa0000-2222-8000-bbbb-ccccddddeeee",
        "chatgpt-67aa0000-2222-8000-bbbb-ccccddddeeee-2",
    ]


def test_thousands_of_messages_in_one_branch_without_recursion():
    start = time.perf_counter()
    (conv,) = parse([chain(5_000)]).conversations
    assert len(conv.turns) == 5_000
    assert conv.turns[0].user_text == "user 0" and conv.turns[0].reply == "assistant 0"
    assert conv.turns[-1].reply == "assistant 4999"
    assert time.perf_counter() - start < 5


def test_a_parent_loop_ends(raw):
    looped = chain(3)
    looped["mapping"]["root"]["parent"] = "m5"  # root -> m5 -> ... -> root
    looped["current_node"] = "m5"
    assert [t.reply for t in parse([looped]).conversations[0].turns] == [
        "assistant 0",
        "assistant 1",
        "assistant 2",
    ]
