"""The worker's OpenAI client sends the conversation as it is, and the model gets
exactly what the stock client would have sent (both APIs, streamed); the stream
events it parses by type are the ones the stock client parses."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from agents import (
    FunctionTool,
    ModelSettings,
    ModelTracing,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
)
from openai import AsyncOpenAI
from openai.types.shared import Reasoning

from backend.demo_model import demo_model_in_thread
from backend.models.openai_client import WorkerOpenAI, _stream_event_classes

CONVERSATION = [
    {"role": "user", "content": "first question"},
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "first answer", "annotations": []}],
    },
    {"role": "user", "content": 'please echo: ünïcode ✓ and "quotes"'},
]
CHAT = [
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": 'please echo: ünïcode ✓ and "quotes"'},
]


async def _responses_text(client: AsyncOpenAI) -> str:
    async with client.responses.with_streaming_response.create(
        model="durachat-demo",
        input=CONVERSATION,
        stream=True,  # type: ignore[arg-type]
    ) as raw:
        text = []
        async for event in await raw.parse():
            if event.type == "response.output_text.delta":
                text.append(event.delta)
    return "".join(text)


async def _chat_text(client: AsyncOpenAI) -> str:
    stream = await client.chat.completions.create(
        model="durachat-demo",
        messages=CHAT,
        stream=True,  # type: ignore[arg-type]
    )
    return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_the_model_gets_the_same_conversation(api: str) -> None:
    read = _responses_text if api == "responses" else _chat_text

    async def both(base_url: str) -> tuple[str, str]:
        stock = AsyncOpenAI(base_url=base_url, api_key="demo")
        ours = WorkerOpenAI(base_url=base_url, api_key="demo").with_options(max_retries=0)
        try:
            return await read(stock), await read(ours)
        finally:
            await stock.close()
            await ours.close()

    with demo_model_in_thread(tokens_per_second=0) as base_url:
        stock_text, our_text = asyncio.run(both(base_url))
    assert 'please echo: ünïcode ✓ and "quotes"' in stock_text
    assert our_text == stock_text


async def _responses_events(client: AsyncOpenAI) -> list[dict[str, object]]:
    stream = await client.responses.create(
        model="durachat-demo",
        input=CONVERSATION,
        stream=True,  # type: ignore[arg-type]
    )
    return [{"class": type(e).__name__, **e.model_dump(exclude_unset=True)} async for e in stream]


def test_stream_events_parse_by_type_as_the_stock_client_parses_them() -> None:
    async def both(base_url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        stock = AsyncOpenAI(base_url=base_url, api_key="demo")
        ours = WorkerOpenAI(base_url=base_url, api_key="demo")
        try:
            return await _responses_events(stock), await _responses_events(ours)
        finally:
            await stock.close()
            await ours.close()

    _stream_event_classes()  # built once per process: count only lookups below
    before = _stream_event_classes.cache_info().hits
    with demo_model_in_thread(tokens_per_second=0) as base_url:
        stock_events, our_events = asyncio.run(both(base_url))
    assert len(our_events) >= 8  # created, in progress, item added, part added, deltas, ...
    assert _stream_event_classes.cache_info().hits - before >= len(our_events)  # looked up by type
    # Same classes and fields, event by event and all the way down (the response and
    # its items included), except what each response gets anew: ids and times.
    assert _anonymous(our_events) == _anonymous(stock_events)


def _anonymous(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _anonymous(v)
            for k, v in value.items()
            if k not in ("id", "item_id", "created_at", "completed_at")
        }
    if isinstance(value, list):
        return [_anonymous(v) for v in value]
    return value


@contextmanager
def _recording_server() -> Iterator[tuple[str, list[Any]]]:
    """A real HTTP server that keeps every request body and answers 400."""
    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            reply = json.dumps({"error": {"message": "recorded", "type": "invalid_request_error"}})
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    finally:
        server.shutdown()
        server.server_close()


def _tool(name: str) -> FunctionTool:
    async def never(_ctx: Any, _args: str) -> str:
        raise AssertionError("not called")

    return FunctionTool(
        name=name,
        description=f"{name}: does something with a path",
        params_json_schema={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "relative path"}},
            "required": ["path"],
        },
        on_invoke_tool=never,
        strict_json_schema=False,
    )


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_the_request_body_is_the_stock_clients(api: str) -> None:
    """Everything the agents SDK sends (tools, settings, the conversation) reaches the
    server exactly as the stock client sends it."""
    conversation = CONVERSATION if api == "responses" else CHAT
    settings = ModelSettings(
        temperature=0.3,
        max_tokens=200,
        tool_choice="auto",
        parallel_tool_calls=False,
        metadata={"conversation": "c-1"},
        # Overlaps a named argument: the caller's extra_body wins, as in the stock client.
        extra_body={"metadata": {"conversation": "from extra_body"}},
        reasoning=Reasoning(effort="low") if api == "responses" else None,
    )

    async def ask(client: AsyncOpenAI) -> None:
        model_class = OpenAIResponsesModel if api == "responses" else OpenAIChatCompletionsModel
        model = model_class(model="m", openai_client=client)
        with pytest.raises(openai.BadRequestError):
            await model.get_response(
                system_instructions="Be brief.",
                input=conversation,  # type: ignore[arg-type]
                model_settings=settings,
                tools=[_tool("read_file"), _tool("list_files")],
                output_schema=None,
                handoffs=[],
                tracing=ModelTracing.DISABLED,
                previous_response_id=None,
                conversation_id=None,
                prompt=None,
            )

    async def both(base_url: str) -> None:
        for client in (
            AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0),
            WorkerOpenAI(base_url=base_url, api_key="k", max_retries=0),
        ):
            try:
                await ask(client)
            finally:
                await client.close()

    with _recording_server() as (base_url, bodies):
        asyncio.run(both(base_url))
    stock, ours = bodies
    assert len(stock["tools"]) == 2 and stock[("input" if api == "responses" else "messages")]
    assert stock["metadata"] == {"conversation": "from extra_body"}
    assert ours == stock
