"""Driving conversations from tests through the same client API the window uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from backend.client.api import DuraChatClient
from backend.local.paths import DataDir
from backend.stream.events import StreamEvent
from backend.stream.turn_text import TurnText
from backend.workflows.conversation_types import ConversationView, Turn

T = TypeVar("T")


def with_client(
    data_dir: Path, fn: Callable[[DuraChatClient], Awaitable[T]], timeout: float = 90
) -> T:
    async def main() -> T:
        client = await DuraChatClient.connect(DataDir(data_dir))
        try:
            return await asyncio.wait_for(fn(client), timeout)
        finally:
            await client.close()

    return asyncio.run(main())


@dataclass
class TurnRecording:
    conversation_id: str
    turn_id: str
    events: list[StreamEvent] = field(default_factory=list)
    view: ConversationView | None = None

    @property
    def turn(self) -> Turn:
        assert self.view is not None
        return next(t for t in self.view.turns if t.turn_id == self.turn_id)

    def of_type(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]

    def rebuilt(self) -> TurnText:
        text = TurnText()
        for event in self.events:
            text.apply(event)
        return text


async def record_turn(
    client: DuraChatClient,
    text: str,
    conversation_id: str | None = None,
    message_id: str | None = None,
    on_event: Callable[[StreamEvent], Awaitable[None]] | None = None,
) -> TurnRecording:
    """Send ``text`` and record every live event of its turn, then the history."""
    sent = await client.send(text, conversation_id, message_id)
    rec = TurnRecording(sent.conversation_id, sent.message_id)
    async for item in client.follow_turn(sent.conversation_id, sent.message_id, sent.stream_after):
        if isinstance(item, ConversationView):
            rec.view = item
        else:
            rec.events.append(item)
            if on_event:
                await on_event(item)
    return rec


def on_text_delta(
    n: int, action: Callable[[StreamEvent], Awaitable[None] | None]
) -> Callable[[StreamEvent], Awaitable[None]]:
    """An ``on_event`` for ``record_turn`` that runs ``action`` at the n-th text delta."""
    seen = 0

    async def on_event(event: StreamEvent) -> None:
        nonlocal seen
        if event.type == "text_delta":
            seen += 1
            if seen == n:
                result = action(event)
                if result is not None:
                    await result

    return on_event


async def workflow_runs(client: DuraChatClient, conversation_id: str, at_least: int = 1) -> int:
    """How many workflow runs the conversation spans (continue-as-new makes a run),
    waiting up to 30 s until there are ``at_least`` (Temporal lists runs moments late)."""
    query = f"WorkflowId = '{conversation_id}'"
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        runs = len([wf async for wf in client.temporal.list_workflows(query)])
        if runs >= at_least or asyncio.get_running_loop().time() > deadline:
            return runs
        await asyncio.sleep(0.2)


# The file tools ask before they run by default; tests about what they read allow them,
# as a user who trusts the folder they granted would.
FILE_TOOLS_ALLOWED: dict[str, Literal["allow", "ask", "deny"]] = {
    "read_file": "allow",
    "list_files": "allow",
}
