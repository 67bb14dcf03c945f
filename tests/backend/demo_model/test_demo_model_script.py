"""The demo model's script, directives and fault syntax: pure functions, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.demo_model import DirectiveError, FaultSpec, counted_tokens, plan_reply, tool_names
from backend.demo_model.directives import parse_directives
from backend.demo_model.faults import FaultLedger, FaultSyntaxError
from backend.demo_model.script import CODE_REPLY, split_tokens

TOOLS = ["current_time", "calculator", "list_files", "read_file"]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def calls(text: str, tools: list[str] = TOOLS) -> list[tuple[str, dict[str, Any]]]:
    plan = plan_reply(user(text), tools)
    return [(call.name, json.loads(call.arguments)) for call in plan.tool_calls]


@pytest.mark.parametrize(
    "text",
    ["", "Hello", "  leading spaces", "a\n\nb  c\t", CODE_REPLY, "trailing  ", "é ü 字 🙂"],
)
def test_tokens_join_back_to_the_text(text: str) -> None:
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_counted_tokens() -> None:
    assert counted_tokens(3) == ("w1 ", "w2 ", "w3 ")
    assert "".join(counted_tokens(200)).split() == [f"w{n}" for n in range(1, 201)]
    assert counted_tokens(0) == ()


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What time is it?", [("current_time", {})]),
        ("what's the date today", [("current_time", {})]),
        ("what is 12*7", [("calculator", {"expression": "12*7"})]),
        ("Calculate (3 + 4) * 2, please", [("calculator", {"expression": "(3 + 4) * 2"})]),
        ("17/4", [("calculator", {"expression": "17/4"})]),
        ("list files", [("list_files", {"path": "."})]),
        ("List the files in Docs/Notes", [("list_files", {"path": "Docs/Notes"})]),
        ("read file README.md", [("read_file", {"path": "README.md"})]),
        ("please read ./src/Main.py", [("read_file", {"path": "./src/Main.py"})]),
        ("read me a story", []),
        ("what happened on 2024-05-01?", []),
    ],
)
def test_natural_prompts_choose_tools(prompt: str, expected: list[Any]) -> None:
    assert calls(prompt) == expected


def test_tool_intent_without_the_tool_explains() -> None:
    plan = plan_reply(user("What time is it?"), ["calculator"])
    assert plan.tool_calls == ()
    assert "`current_time`" in plan.text and "demo model" in plan.text


def test_default_reply_is_friendly_and_echoes() -> None:
    plan = plan_reply(user("Tell me about the weather in Lisbon"))
    assert plan.tool_calls == () and plan.reasoning == ""
    assert "demo model" in plan.text and "no API key" in plan.text
    assert "Settings" in plan.text
    assert "Tell me about the weather in Lisbon" in plan.text
    long = plan_reply(user("word " * 100)).text
    assert "…" in long and long.count("word") < 20


def test_code_and_think_prompts() -> None:
    code = plan_reply(user("Show me some Python code"))
    assert "```python\n" in code.text and code.text.count("```") == 2
    think = plan_reply(user("Think step by step: why is the sky blue?"))
    assert think.reasoning and think.text and not think.tool_calls
    both = plan_reply(user("reason about what is 6*7"), TOOLS)
    assert both.reasoning and [c.name for c in both.tool_calls] == ["calculator"]


def test_directives() -> None:
    plan = plan_reply(
        user(
            'Hi [demo tokens=5 tps=50 reasoning=3 tool=calculator:{"expression": "2+2"} '
            "fault=drop@20x1] there"
        )
    )
    assert plan.text == "w1 w2 w3 w4 w5 "
    assert plan.reasoning == "r1 r2 r3 "
    assert [(c.name, c.arguments) for c in plan.tool_calls] == [
        ("calculator", '{"expression": "2+2"}')
    ]
    assert plan.tokens_per_second == 50
    assert plan.fault == FaultSpec("drop", at=20, times=1)
    assert plan.stream_token_count == 5 + 3 + len(plan.tool_calls[0].argument_tokens)
    assert plan.finish_reason == "tool_calls"


def test_forced_tool_is_used_even_when_not_offered_and_json_may_hold_brackets() -> None:
    plan = plan_reply(user('[demo tool=read_file:{"path": "a ]b.txt"} tool=current_time]'))
    assert [(c.name, c.arguments) for c in plan.tool_calls] == [
        ("read_file", '{"path": "a ]b.txt"}'),
        ("current_time", "{}"),
    ]
    assert plan.text == ""
    assert len({c.call_id for c in plan.tool_calls}) == 2


@pytest.mark.parametrize(
    "bad",
    [
        "[demo tokens=-1]",
        "[demo tokens=abc]",
        "[demo tps=fast]",
        "[demo colour=blue]",
        "[demo tool=calc:{not json}]",
        "[demo tool=calc:[1, 2]]",
        "[demo fault=explode]",
        "[demo fault=500@3]",
        "[demo tokens=3",
    ],
)
def test_bad_directives_raise(bad: str) -> None:
    with pytest.raises(DirectiveError):
        plan_reply(user(bad))


def test_directive_lookalikes_are_text() -> None:
    directives, rest = parse_directives("see [demonstration] and [demo]")
    assert directives.tokens is None and rest == "see [demonstration] and "


def test_only_the_last_user_message_counts() -> None:
    messages = [
        {"role": "system", "content": "[demo tokens=99]"},
        {"role": "user", "content": "[demo tokens=1]"},
        {"role": "assistant", "content": "w1 "},
        {"role": "user", "content": [{"type": "text", "text": "[demo tokens=2]"}]},
    ]
    assert plan_reply(messages).text == "w1 w2 "


def test_final_answer_quotes_tool_outputs_verbatim_on_both_apis() -> None:
    output = 'line one\n  "two"  \n'
    chat = [
        {"role": "user", "content": "[demo tool=calculator:{} tool=read_file:{}]"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": "{}"},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "4"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": output}]},
    ]
    responses = [
        {"role": "user", "content": [{"type": "input_text", "text": "what is 2+2"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call", "call_id": "c1", "name": "calculator", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "read_file", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "4"},
        {"type": "function_call_output", "call_id": "c2", "output": output},
    ]
    for messages in (chat, responses):
        plan = plan_reply(messages, TOOLS)
        assert plan.tool_calls == ()  # a forced tool never loops after the tool round
        assert "The `calculator` tool returned:\n\n4\n\n" in plan.text
        assert f"The `read_file` tool returned:\n\n{output}\n\n" in plan.text


def test_plans_are_deterministic_and_count_input() -> None:
    messages = user("what is 3+4")
    first, second = plan_reply(messages, TOOLS), plan_reply(messages, TOOLS)
    assert first == second
    assert first.input_tokens >= 1
    longer = plan_reply(messages, TOOLS, instructions="x" * 400)
    assert longer.input_tokens == first.input_tokens + 100
    assert plan_reply("what is 3+4", TOOLS).tool_calls[0].arguments == '{"expression": "3+4"}'


def test_empty_fault_plan() -> None:
    plan = plan_reply(user("[demo tokens=4 reasoning=2 tool=x]")).emptied()
    assert (plan.text, plan.reasoning, plan.tool_calls, plan.output_tokens) == ("", "", (), 0)


def test_tool_names_from_both_apis() -> None:
    chat = [{"type": "function", "function": {"name": "calculator"}}]
    responses = [{"type": "function", "name": "read_file"}, {"type": "web_search"}]
    assert tool_names(chat) == ("calculator",)
    assert tool_names(responses) == ("read_file",)
    assert tool_names(None) == ()


@pytest.mark.parametrize(
    ("text", "spec", "canonical"),
    [
        ("401", FaultSpec("401"), "401"),
        ("429", FaultSpec("429", retry_after=1.0), "429:1"),
        ("429:0.5x2", FaultSpec("429", retry_after=0.5, times=2), "429:0.5x2"),
        ("500x1", FaultSpec("500", times=1), "500x1"),
        ("drop@20x1", FaultSpec("drop", at=20, times=1), "drop@20x1"),
        ("hang", FaultSpec("hang", at=0), "hang@0"),
        ("malformed@3", FaultSpec("malformed", at=3), "malformed@3"),
        ("empty", FaultSpec("empty"), "empty"),
    ],
)
def test_fault_syntax(text: str, spec: FaultSpec, canonical: str) -> None:
    assert FaultSpec.parse(text) == spec
    assert str(spec) == canonical


@pytest.mark.parametrize("bad", ["", "404", "drop@", "500:3", "empty@2", "500x0", "dropx"])
def test_bad_fault_syntax(bad: str) -> None:
    with pytest.raises(FaultSyntaxError):
        FaultSpec.parse(bad)


def test_ledger_counts_attempts_per_request() -> None:
    ledger = FaultLedger(max_entries=2)
    twice = FaultSpec("500", times=2)
    assert [ledger.strikes(twice, "a") for _ in range(4)] == [True, True, False, False]
    assert ledger.strikes(twice, "b")
    always = FaultSpec("500")
    assert all(ledger.strikes(always, "a") for _ in range(3))
    # Bounded: the oldest request is forgotten, and counts afresh.
    ledger.strikes(twice, "c")
    assert ledger.strikes(twice, "a")
