"""The demo model over real HTTP, through the real openai client and the Agents SDK.

One server process (unpaced) serves most tests; a few tests start their own to check
CLI flags. Every test writes a unique marker into its prompt, so the server's per-request
attempt counting (for ``xN`` faults) never mixes two tests up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.models.interface import ModelTracing
from openai import AsyncOpenAI, OpenAI
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
)

from backend.demo_model import demo_model_in_thread, plan_reply, running_demo_model
from backend.demo_model.script import read_stamp

REPO_ROOT = Path(__file__).resolve().parents[3]
KEY_ENV = "DURACHAT_TEST_DEMO_KEY"
SECRET_KEY = "sk-demo-test-4f1c9e"

T = TypeVar("T")
pytestmark = pytest.mark.timeout(60)
set_tracing_disabled(True)


# --------------------------------------------------------------------------- server process


@dataclass
class DemoProcess:
    proc: subprocess.Popen[str]
    base_url: str

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit status and everything the process printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, out, err


def start_demo_model(*args: str, env: dict[str, str] | None = None) -> DemoProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.demo_model", "--port", "0", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        raise AssertionError("demo model printed no ready line within 20 s")
    line = proc.stdout.readline()
    if not line:
        _, err = proc.communicate(timeout=5)
        raise AssertionError(f"demo model exited before ready: {err}")
    event = json.loads(line)
    assert event["event"] == "ready"
    assert set(event) == {"event", "base_url"}
    assert event["base_url"].startswith("http://127.0.0.1:")
    assert event["base_url"].endswith("/v1")
    return DemoProcess(proc, event["base_url"])


def assert_clean_exit(demo: DemoProcess) -> tuple[str, str]:
    code, out, err = demo.stop()
    assert code == 0, err
    assert "Traceback" not in err
    assert out == "", "nothing but the ready line may go to stdout"
    return out, err


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProcess]:
    process = start_demo_model("--tokens-per-second", "0")
    yield process
    assert_clean_exit(process)


_open_clients: list[AsyncOpenAI] = []


def client(base_url: str, **kwargs: Any) -> AsyncOpenAI:
    # Strict validation makes the client check every chunk and event against its types.
    options: dict[str, Any] = {"api_key": "demo", "max_retries": 0, "timeout": 10.0}
    options.update(kwargs)
    api = AsyncOpenAI(base_url=base_url, _strict_response_validation=True, **options)
    _open_clients.append(api)
    return api


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, closing the test's clients inside the loop that opened them."""

    async def with_cleanup() -> T:
        try:
            return await coro
        finally:
            while _open_clients:
                await _open_clients.pop().close()

    return asyncio.run(with_cleanup())


def unique(prompt: str) -> str:
    return f"{prompt} (test {uuid.uuid4().hex[:8]})"


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


CHAT_TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression.",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    }
]
RESPONSES_TOOLS: list[Any] = [
    {"type": "function", "strict": False, **CHAT_TOOLS[0]["function"]},
]


@function_tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression."""
    if expression == "12*7":
        return "84"
    return "unknown"


async def collect_chat(stream: Any) -> tuple[str, str, list[Any]]:
    text, reasoning, chunks = "", "", []
    async for chunk in stream:
        chunks.append(chunk)
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
    return text, reasoning, chunks


# --------------------------------------------------------------------------- Chat Completions


def test_models_lists_the_demo_model(demo: DemoProcess) -> None:
    async def go() -> None:
        models = await client(demo.base_url).models.list()
        assert [model.id for model in models.data] == ["durachat-demo"]

    run(go())


def test_chat_stream_text_is_the_planned_text(demo: DemoProcess) -> None:
    messages = user(unique("Hello, who are you?"))
    plan = plan_reply(messages)

    async def go() -> None:
        stream = await client(demo.base_url).chat.completions.create(
            model="durachat-demo",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        text, reasoning, chunks = await collect_chat(stream)
        assert text == plan.text
        assert "demo model" in text and "Settings" in text and "Hello, who are you?" in text
        assert reasoning == ""
        content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
        assert len(content_chunks) == len(plan.text_tokens)  # one chunk per token
        assert chunks[-2].choices[0].finish_reason == "stop"
        usage = chunks[-1].usage
        assert chunks[-1].choices == []
        assert usage.completion_tokens == len(plan.text_tokens)
        assert usage.prompt_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    run(go())


def test_chat_without_stream_and_with_counted_tokens(demo: DemoProcess) -> None:
    messages = user(unique("[demo tokens=7 reasoning=3]"))

    async def go() -> None:
        completion = await client(demo.base_url).chat.completions.create(
            model="durachat-demo", messages=messages
        )
        message = completion.choices[0].message
        assert message.content == "w1 w2 w3 w4 w5 w6 w7 "
        assert message.reasoning_content == "r1 r2 r3 "  # type: ignore[attr-defined]
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 10

    run(go())


def test_chat_stream_reasoning_content(demo: DemoProcess) -> None:
    messages = user(unique("Please think about whether the sky is blue."))
    plan = plan_reply(messages)
    assert plan.reasoning

    async def go() -> None:
        stream = await client(demo.base_url).chat.completions.create(
            model="durachat-demo", messages=messages, stream=True
        )
        text, reasoning, _ = await collect_chat(stream)
        assert (reasoning, text) == (plan.reasoning, plan.text)

    run(go())


def test_chat_tool_call_then_final_answer_quotes_the_output(demo: DemoProcess) -> None:
    messages: list[Any] = user(unique("what is 12*7"))
    plan = plan_reply(messages, ["calculator"])
    assert [(c.name, c.arguments) for c in plan.tool_calls] == [
        ("calculator", '{"expression": "12*7"}')
    ]

    async def go() -> None:
        api = client(demo.base_url)
        stream = await api.chat.completions.create(
            model="durachat-demo", messages=messages, tools=CHAT_TOOLS, stream=True
        )
        calls: dict[int, dict[str, str]] = {}
        finish = None
        async for chunk in stream:
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                for delta in choice.delta.tool_calls or []:
                    call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] += delta.id or ""
                    if delta.function:
                        call["name"] += delta.function.name or ""
                        call["arguments"] += delta.function.arguments or ""
        assert finish == "tool_calls"
        expected = plan.tool_calls[0]
        assert calls == {
            0: {"id": expected.call_id, "name": "calculator", "arguments": expected.arguments}
        }

        follow_up = [
            *messages,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": expected.call_id,
                        "type": "function",
                        "function": {"name": "calculator", "arguments": expected.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": expected.call_id, "content": "84\n(exact: 84)"},
        ]
        final = await api.chat.completions.create(
            model="durachat-demo", messages=follow_up, tools=CHAT_TOOLS
        )
        content = final.choices[0].message.content
        assert content == plan_reply(follow_up, ["calculator"]).text
        assert "84\n(exact: 84)" in content and "`calculator`" in content

    run(go())


# --------------------------------------------------------------------------- Responses API


def test_responses_stream_event_sequence(demo: DemoProcess) -> None:
    prompt = unique('[demo tokens=4 reasoning=2 tool=calculator:{"expression": "2+2"}]')
    plan = plan_reply(prompt, ["calculator"])

    async def go() -> None:
        stream = await client(demo.base_url).responses.create(
            model="durachat-demo", input=prompt, tools=RESPONSES_TOOLS, stream=True
        )
        events = [event async for event in stream]
        types = [event.type for event in events]
        assert types == [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            *["response.reasoning_summary_text.delta"] * 2,
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            *["response.output_text.delta"] * 4,
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            *["response.function_call_arguments.delta"] * len(plan.tool_calls[0].argument_tokens),
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
        assert [event.sequence_number for event in events] == list(range(len(events)))
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == plan.text == "w1 w2 w3 w4 "
        arguments = "".join(
            e.delta for e in events if e.type == "response.function_call_arguments.delta"
        )
        assert arguments == '{"expression": "2+2"}'
        completed = events[-1]
        assert isinstance(completed, ResponseCompletedEvent)
        response = completed.response
        assert response.status == "completed"
        assert response.output_text == plan.text
        assert response.usage is not None
        assert response.usage.output_tokens == plan.output_tokens
        assert response.usage.output_tokens_details.reasoning_tokens == 2
        reasoning, message, call = response.output
        assert isinstance(reasoning, ResponseReasoningItem)
        assert reasoning.summary[0].text == "r1 r2 "
        assert isinstance(message, ResponseOutputMessage)
        assert isinstance(call, ResponseFunctionToolCall)
        assert (call.name, call.arguments, call.call_id) == (
            "calculator",
            '{"expression": "2+2"}',
            plan.tool_calls[0].call_id,
        )

    run(go())


def test_responses_stream_helper_accumulates_the_reply(demo: DemoProcess) -> None:
    # client.responses.stream() checks the event order much more strictly than create().
    prompt = unique("Can you think it through and write python code?")
    plan = plan_reply(user(prompt))

    async def go() -> None:
        async with client(demo.base_url).responses.stream(
            model="durachat-demo", input=user(prompt)
        ) as stream:
            summary = ""
            async for event in stream:
                if event.type == "response.reasoning_summary_text.delta":
                    summary += event.delta
            final = await stream.get_final_response()
        assert final.output_text == plan.text
        assert "```python\n" in final.output_text
        assert summary == plan.reasoning != ""

    run(go())


def test_responses_without_stream(demo: DemoProcess) -> None:
    prompt = unique("What's the time?")
    plan = plan_reply(prompt, ["current_time"])
    assert plan.tool_calls[0].name == "current_time"

    async def go() -> None:
        response = await client(demo.base_url).responses.create(
            model="durachat-demo",
            input=prompt,
            instructions="You are helpful.",
            tools=[{"type": "function", "name": "current_time", "parameters": {}, "strict": False}],
        )
        (call,) = response.output
        assert isinstance(call, ResponseFunctionToolCall)
        assert (call.name, call.arguments) == ("current_time", "{}")

        # Without the tool the demo model explains instead of calling it.
        response = await client(demo.base_url).responses.create(model="durachat-demo", input=prompt)
        assert "`current_time`" in response.output_text
        assert response.output_text == plan_reply(prompt).text

    run(go())


# --------------------------------------------------------------------------- Agents SDK


def test_agents_chat_completions_model_streams_reasoning_text_and_tools(
    demo: DemoProcess,
) -> None:
    prompt = unique('[demo tokens=3 reasoning=4 tool=calculator:{"expression": "12*7"}]')

    async def go() -> None:
        model = OpenAIChatCompletionsModel("durachat-demo", openai_client=client(demo.base_url))
        events = [
            event
            async for event in model.stream_response(
                None, prompt, ModelSettings(), [calculator], None, [], ModelTracing.DISABLED
            )
        ]
        summary = "".join(
            e.delta for e in events if e.type == "response.reasoning_summary_text.delta"
        )
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert (summary, text) == ("r1 r2 r3 r4 ", "w1 w2 w3 ")
        completed = events[-1]
        assert isinstance(completed, ResponseCompletedEvent)
        kinds = [type(item) for item in completed.response.output]
        assert kinds == [ResponseReasoningItem, ResponseOutputMessage, ResponseFunctionToolCall]
        call = completed.response.output[2]
        assert isinstance(call, ResponseFunctionToolCall)
        assert (call.name, call.arguments) == ("calculator", '{"expression": "12*7"}')
        assert completed.response.usage is not None
        assert completed.response.usage.output_tokens > 0

        reply = await model.get_response(
            None, prompt, ModelSettings(), [calculator], None, [], ModelTracing.DISABLED
        )
        assert [type(item) for item in reply.output] == [
            ResponseReasoningItem,
            ResponseOutputMessage,
            ResponseFunctionToolCall,
        ]
        assert reply.usage.output_tokens > 0

    run(go())


def test_agents_responses_model_stream_and_get(demo: DemoProcess) -> None:
    prompt = unique("Think: what is 12*7?")
    plan = plan_reply(user(prompt), ["calculator"])

    async def go() -> None:
        model = OpenAIResponsesModel("durachat-demo", openai_client=client(demo.base_url))
        events = [
            event
            async for event in model.stream_response(
                "Be brief.", prompt, ModelSettings(), [calculator], None, [], ModelTracing.DISABLED
            )
        ]
        summary = "".join(
            e.delta for e in events if e.type == "response.reasoning_summary_text.delta"
        )
        assert summary == plan.reasoning != ""
        completed = events[-1]
        assert isinstance(completed, ResponseCompletedEvent)
        call = completed.response.output[-1]
        assert isinstance(call, ResponseFunctionToolCall)
        assert (call.name, call.arguments) == ("calculator", '{"expression": "12*7"}')

        reply = await model.get_response(
            "Be brief.", prompt, ModelSettings(), [calculator], None, [], ModelTracing.DISABLED
        )
        assert isinstance(reply.output[0], ResponseReasoningItem)
        assert isinstance(reply.output[-1], ResponseFunctionToolCall)

    run(go())


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_agents_runner_full_tool_round(demo: DemoProcess, api: str) -> None:
    async def go() -> None:
        api_client = client(demo.base_url)
        model = (
            OpenAIChatCompletionsModel("durachat-demo", openai_client=api_client)
            if api == "chat"
            else OpenAIResponsesModel("durachat-demo", openai_client=api_client)
        )
        agent = Agent(name="demo", instructions="Be helpful.", model=model, tools=[calculator])
        result = Runner.run_streamed(
            agent, unique("what is 12*7"), run_config=RunConfig(tracing_disabled=True)
        )
        async for _ in result.stream_events():
            pass
        assert "`calculator` tool returned:\n\n84\n\n" in str(result.final_output)

    run(go())


# --------------------------------------------------------------------------- faults


def test_http_faults_become_the_clients_errors(demo: DemoProcess) -> None:
    async def go() -> None:
        api = client(demo.base_url)
        with pytest.raises(openai.AuthenticationError) as auth:
            await api.chat.completions.create(
                model="d", messages=user(unique("[demo fault=401]")), stream=True
            )
        assert auth.value.code == "invalid_api_key"
        with pytest.raises(openai.RateLimitError) as limited:
            await api.responses.create(model="d", input=unique("[demo fault=429:2]"))
        assert limited.value.response.headers["retry-after"] == "2"
        assert limited.value.code == "rate_limit_exceeded"
        with pytest.raises(openai.InternalServerError):
            await api.chat.completions.create(model="d", messages=user(unique("[demo fault=500]")))

    run(go())


def test_fault_with_xn_recovers_after_n_attempts(demo: DemoProcess) -> None:
    messages = user(unique("[demo tokens=3 fault=500x2]"))

    async def go() -> None:
        api = client(demo.base_url)
        for _ in range(2):
            with pytest.raises(openai.InternalServerError):
                await api.chat.completions.create(model="d", messages=messages)
        completion = await api.chat.completions.create(model="d", messages=messages)
        assert completion.choices[0].message.content == "w1 w2 w3 "

        # The openai client's own retry honours Retry-After and then gets the reply.
        retrying = client(demo.base_url, max_retries=2)
        started = time.monotonic()
        response = await retrying.responses.create(
            model="d", input=unique("[demo tokens=2 fault=429:0.2x1]")
        )
        assert response.output_text == "w1 w2 "
        assert time.monotonic() - started >= 0.2

    run(go())


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_drop_cuts_the_connection_after_k_tokens(demo: DemoProcess, api: str) -> None:
    prompt = unique("[demo tokens=10 fault=drop@4x1]")

    async def stream_text() -> str:
        text = ""
        if api == "chat":
            stream: Any = await client(demo.base_url).chat.completions.create(
                model="d", messages=user(prompt), stream=True
            )
            try:
                async for chunk in stream:
                    text += chunk.choices[0].delta.content or "" if chunk.choices else ""
            except openai.APIConnectionError:
                return "DROPPED:" + text
        else:
            stream = await client(demo.base_url).responses.create(
                model="d", input=prompt, stream=True
            )
            try:
                async for event in stream:
                    if event.type == "response.output_text.delta":
                        text += event.delta
            except openai.APIConnectionError:
                return "DROPPED:" + text
        return text

    async def go() -> None:
        assert await stream_text() == "DROPPED:w1 w2 w3 w4 "
        assert await stream_text() == "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 "

    run(go())


def test_hang_times_out_without_blocking_other_requests(demo: DemoProcess) -> None:
    async def go() -> None:
        slow_client = client(demo.base_url, timeout=httpx.Timeout(5.0, read=0.8))
        received: list[str] = []

        async def hang() -> None:
            stream = await slow_client.chat.completions.create(
                model="d", messages=user(unique("[demo tokens=9 fault=hang@3]")), stream=True
            )
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")

        hanging = asyncio.create_task(hang())
        await asyncio.sleep(0.3)
        # The server keeps answering while the other stream hangs.
        other = await client(demo.base_url).chat.completions.create(
            model="d", messages=user(unique("[demo tokens=2]"))
        )
        assert other.choices[0].message.content == "w1 w2 "
        assert not hanging.done()
        with pytest.raises(openai.APITimeoutError):
            await hanging
        assert "".join(received) == "w1 w2 w3 "

    run(go())


def test_malformed_line_fails_the_stream(demo: DemoProcess) -> None:
    async def go() -> None:
        stream = await client(demo.base_url).chat.completions.create(
            model="d", messages=user(unique("[demo tokens=5 fault=malformed@2]")), stream=True
        )
        text = ""
        with pytest.raises(json.JSONDecodeError):
            async for chunk in stream:
                text += chunk.choices[0].delta.content or ""
        assert text == "w1 w2 "

    run(go())


def test_empty_reply(demo: DemoProcess) -> None:
    async def go() -> None:
        api = client(demo.base_url)
        stream = await api.chat.completions.create(
            model="d", messages=user(unique("Hello [demo fault=empty]")), stream=True
        )
        text, reasoning, chunks = await collect_chat(stream)
        assert (text, reasoning) == ("", "")
        assert chunks[-1].choices[0].finish_reason == "stop"
        response = await api.responses.create(model="d", input=unique("Hi [demo fault=empty]"))
        assert response.output == []

    run(go())


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("drop@1", openai.APIConnectionError),
        ("hang@1", openai.APITimeoutError),
        ("malformed@1", json.JSONDecodeError),
    ],
)
def test_stream_faults_also_break_non_streamed_replies(
    demo: DemoProcess, fault: str, error: type[Exception]
) -> None:
    async def go() -> None:
        api = client(demo.base_url, timeout=httpx.Timeout(5.0, read=0.5))
        with pytest.raises(error):
            await api.chat.completions.create(
                model="d", messages=user(unique(f"[demo tokens=3 fault={fault}]"))
            )

    run(go())


def test_bad_directive_is_a_400(demo: DemoProcess) -> None:
    async def go() -> None:
        with pytest.raises(openai.BadRequestError, match="unknown"):
            await client(demo.base_url).chat.completions.create(
                model="d", messages=user("[demo tokenz=5]")
            )

    run(go())


# --------------------------------------------------------------------------- pacing and speed


def test_pacing_at_50_tokens_per_second(demo: DemoProcess) -> None:
    async def go() -> None:
        stream = await client(demo.base_url).chat.completions.create(
            model="d", messages=user(unique("[demo tokens=50 tps=50]")), stream=True
        )
        stamps = []
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                stamps.append(time.monotonic())
        assert len(stamps) == 50
        # Token n is due n/50 s after the first: 49 intervals, 0.98 s.
        elapsed = stamps[-1] - stamps[0]
        assert 0.85 <= elapsed <= 2.0, elapsed

    run(go())


def test_stamped_tokens_carry_their_send_time(demo: DemoProcess) -> None:
    """``stamp=1``: each token says when it was written, so a benchmark can time its trip."""

    async def go() -> None:
        stream = await client(demo.base_url).chat.completions.create(
            model="d", messages=user(unique("[demo tokens=20 tps=40 stamp=1]")), stream=True
        )
        received = []
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append((chunk.choices[0].delta.content, time.time()))
        stamps = [read_stamp(text) for text, _ in received]
        assert [s[0] for s in stamps if s] == list(range(1, 21))
        sent = [s[1] for s in stamps if s]
        assert all(a < b for a, b in itertools.pairwise(sent))  # paced 25 ms apart
        for (_text, arrived), (_index, when) in zip(received, stamps, strict=True):  # type: ignore[misc]
            assert 0 <= arrived - when < 0.5

    run(go())


def test_unpaced_throughput(demo: DemoProcess) -> None:
    tokens = 20_000

    async def go() -> float:
        async with httpx.AsyncClient(timeout=30) as http:
            started = time.monotonic()
            count = 0
            async with http.stream(
                "POST",
                f"{demo.base_url}/chat/completions",
                json={"model": "d", "stream": True, "messages": user(f"[demo tokens={tokens}]")},
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith('data: {"id"') and '"content": "w' in line:
                        count += 1
            assert count == tokens
            return tokens / (time.monotonic() - started)

    rate = run(go())
    print(f"demo model unpaced: {rate:,.0f} tokens/s")
    # The target is well over 5,000/s; the bound is loose for a busy shared machine.
    assert rate > 3_000


# --------------------------------------------------------------------------- CLI flags


def test_require_key_env_rejects_a_wrong_key() -> None:
    env = {**os.environ, KEY_ENV: SECRET_KEY}
    demo = start_demo_model("--require-key-env", KEY_ENV, env=env)
    try:

        async def go() -> None:
            with pytest.raises(openai.AuthenticationError) as rejected:
                await client(demo.base_url, api_key="sk-wrong").chat.completions.create(
                    model="d", messages=user("hi")
                )
            assert SECRET_KEY not in str(rejected.value.body)
            async with httpx.AsyncClient() as http:
                missing = await http.get(f"{demo.base_url}/models")
            assert missing.status_code == 401
            ok = await client(demo.base_url, api_key=SECRET_KEY).chat.completions.create(
                model="d", messages=user("[demo tokens=2]")
            )
            assert ok.choices[0].message.content == "w1 w2 "

            # The default pacing (30 tokens/s) applies when the message sets none.
            started = time.monotonic()
            stream = await client(demo.base_url, api_key=SECRET_KEY).chat.completions.create(
                model="d", messages=user("[demo tokens=16]"), stream=True
            )
            await collect_chat(stream)
            assert 0.4 <= time.monotonic() - started <= 2.5

        run(go())
    finally:
        out, err = assert_clean_exit(demo)
    assert SECRET_KEY not in out + err


def test_require_key_env_with_unset_variable_fails_clearly() -> None:
    env = {key: value for key, value in os.environ.items() if key != KEY_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "backend.demo_model", "--require-key-env", KEY_ENV],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert KEY_ENV in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_server_wide_fault_flag() -> None:
    demo = start_demo_model("--fault", "500x1", "--tokens-per-second", "0")
    try:

        async def go() -> None:
            api = client(demo.base_url)
            messages = user("[demo tokens=2]")
            with pytest.raises(openai.InternalServerError):
                await api.chat.completions.create(model="d", messages=messages)
            ok = await api.chat.completions.create(model="d", messages=messages)
            assert ok.choices[0].message.content == "w1 w2 "
            # A fault named in the message wins over the server's.
            with pytest.raises(openai.AuthenticationError):
                await api.chat.completions.create(
                    model="d", messages=user("[demo tokens=2 fault=401]")
                )

        run(go())
    finally:
        assert_clean_exit(demo)


def test_sigterm_with_streams_open_exits_zero_promptly() -> None:
    demo = start_demo_model("--tokens-per-second", "2")

    async def go() -> None:
        api = client(demo.base_url, timeout=httpx.Timeout(10.0))
        hanging = await api.chat.completions.create(
            model="d", messages=user("[demo tokens=5 tps=0 fault=hang@1]"), stream=True
        )
        slow = await api.chat.completions.create(
            model="d", messages=user("[demo tokens=100]"), stream=True
        )
        await anext(aiter(hanging))
        await anext(aiter(slow))
        started = time.monotonic()
        demo.proc.send_signal(signal.SIGTERM)
        for stream in (hanging, slow):
            with pytest.raises(openai.APIConnectionError):
                async for _ in stream:
                    pass
        assert await asyncio.to_thread(demo.proc.wait, 10) == 0
        assert time.monotonic() - started < 3

    run(go())
    _, err = assert_clean_exit(demo)
    assert err == ""


# --------------------------------------------------------------------------- in-process


def test_running_demo_model_in_this_event_loop() -> None:
    async def go() -> None:
        async with running_demo_model(tokens_per_second=0, api_key="k") as base_url:
            completion = await client(base_url, api_key="k").chat.completions.create(
                model="d", messages=user("[demo tokens=3]")
            )
            assert completion.choices[0].message.content == "w1 w2 w3 "

    run(go())


def test_demo_model_in_thread_serves_a_sync_client() -> None:
    with demo_model_in_thread(tokens_per_second=0, fault="500x1") as base_url:
        sync = OpenAI(base_url=base_url, api_key="demo", max_retries=1)
        completion = sync.chat.completions.create(model="d", messages=user("[demo tokens=2]"))
        assert completion.choices[0].message.content == "w1 w2 "
