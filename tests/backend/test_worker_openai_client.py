"""The worker's OpenAI client sends the conversation as it is, and the model gets
exactly what the stock client would have sent (both APIs, streamed); the stream
events it parses by type are the ones the stock client parses."""

from __future__ import annotations

import asyncio

import pytest
from openai import AsyncOpenAI

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

    before = _stream_event_classes.cache_info().hits
    with demo_model_in_thread(tokens_per_second=0) as base_url:
        stock_events, our_events = asyncio.run(both(base_url))
    assert len(our_events) >= 8  # created, in progress, item added, part added, deltas, ...
    assert _stream_event_classes.cache_info().hits - before >= len(our_events)  # the fast path ran
    # Same classes and fields, event by event, except the ids each response gets anew.
    ids = ("id", "item_id", "response", "item")
    strip = [{k: v for k, v in e.items() if k not in ids} for e in stock_events]
    assert [{k: v for k, v in e.items() if k not in ids} for e in our_events] == strip
