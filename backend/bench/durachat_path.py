"""DuraChat's path: ``send`` to the conversation's workflow, the streaming model
activity, Redis, and the subscriber, exactly as the window uses them."""

from __future__ import annotations

from collections.abc import Callable

from backend.client.api import DuraChatClient
from backend.stream.events import TextDelta


class DuraChatPath:
    name = "durachat"

    def __init__(self, client: DuraChatClient) -> None:
        self._client = client
        self._conversation_id: str | None = None

    async def new_conversation(self) -> None:
        self._conversation_id = None  # the next send starts one

    async def ask(self, prompt: str, on_text: Callable[[str], None]) -> None:
        sent = await self._client.send(prompt, self._conversation_id)
        self._conversation_id = sent.conversation_id
        async for item in self._client.follow_turn(
            sent.conversation_id, sent.message_id, sent.stream_after
        ):
            if isinstance(item, TextDelta):
                on_text(item.text)

    async def close(self) -> None:
        await self._client.close()
