"""The worker's OpenAI client sends the conversation as it is, and the model gets
exactly what the stock client would have sent (both APIs, streamed)."""

from __future__ import annotations

import asyncio

import pytest
from openai import AsyncOpenAI

from backend.demo_model import demo_model_in_thread
from backend.models.openai_client import WorkerOpenAI

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
