"""The floor: the OpenAI client streaming straight from the demo model, no durability.

Uses the Responses API like DuraChat's worker does with the demo model, and sends
the same growing conversation, so the model has the same work on every path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openai import AsyncOpenAI


class DirectPath:
    name = "direct"

    def __init__(self, base_url: str) -> None:
        self._client = AsyncOpenAI(base_url=base_url, api_key="demo", max_retries=0)
        self._conversation: list[dict[str, Any]] = []

    async def new_conversation(self) -> None:
        self._conversation = []

    async def ask(self, prompt: str, on_text: Callable[[str], None]) -> None:
        self._conversation.append({"role": "user", "content": prompt})
        reply: list[str] = []
        stream = await self._client.responses.create(
            model="durachat-demo",
            input=self._conversation,
            stream=True,  # type: ignore[arg-type]
        )
        async for event in stream:
            if event.type == "response.output_text.delta":
                on_text(event.delta)
                reply.append(event.delta)
        self._conversation.append({"role": "assistant", "content": "".join(reply)})

    async def close(self) -> None:
        await self._client.close()
