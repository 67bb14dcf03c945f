"""What the conversation workflow does outside itself at a turn's edges: publishing
turn-level events, collecting a stopped reply's text, and writing finished turns to
the conversation store.

Local activities (no server round trip), as methods of a class that holds what
they use. Every write is idempotent (keyed by conversation and turn ids), so a
retried or replayed one changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity

from backend.client.store import ConversationStore
from backend.local.settings import Settings, SettingsError
from backend.stream.events import ToolResult, TurnCancelled, TurnDone, TurnFailed, TurnStarted
from backend.stream.redis_stream import EventPublisher, EventReader
from backend.stream.turn_text import TurnText
from backend.workflows.conversation_types import Turn

log = logging.getLogger(__name__)

# ToolResult: the end of a call that ran outside the tool activity (an MCP call).
TurnEvent = TurnStarted | TurnDone | TurnFailed | ToolResult


class StoppedTurn(BaseModel):
    conversation_id: str
    turn_id: str


class TurnRecord(BaseModel):
    """A finished turn as the store keeps it, with the model-context items it added."""

    conversation_id: str
    turn: Turn
    items: list[dict[str, Any]] = Field(default_factory=list)
    # Where the model's context begins after this turn (a turn id; None: the first).
    context_starts_at: str | None = None


class EndTurn(BaseModel):
    """Write the turn to the store, then publish its ending (so a window that reads
    the store on seeing the end finds the turn there)."""

    record: TurnRecord
    event: TurnDone | TurnFailed | None = None
    # Stopped: the reply is what the live stream showed; published as TurnCancelled.
    stopped: bool = False


class RecordTurns(BaseModel):
    """Finished turns a run carried in its state (from before the store): written once."""

    conversation_id: str
    title: str = ""
    title_is_custom: bool = False
    created_at: float = 0.0
    turns: list[Turn] = Field(default_factory=list)


class TurnActivities:
    def __init__(
        self,
        publisher: EventPublisher,
        reader: EventReader,
        store: ConversationStore,
        settings: Callable[[], Settings],
    ) -> None:
        self._publisher = publisher
        self._reader = reader
        self._store = store
        self._settings = settings

    @activity.defn(name="durachat_publish")
    async def publish_turn_event(self, event: TurnEvent) -> None:
        self._publisher.publish(event.model_copy(update={"ts": time.time()}))
        await self._publisher.flush()

    @activity.defn(name="durachat_collect_stopped")
    async def collect_stopped_turn(self, stopped: StoppedTurn) -> str:
        """The text the user saw before Stop (from the live stream), published as the
        turn's end; the workflow keeps it in the history, marked stopped."""
        partial = await self._partial_text(stopped.conversation_id, stopped.turn_id)
        self._publish_cancelled(stopped.conversation_id, stopped.turn_id, partial)
        await self._publisher.flush()
        return partial

    @activity.defn(name="durachat_end_turn")
    async def end_turn(self, end: EndTurn) -> str:
        """Record the finished turn, then publish its end; returns the reply (for a
        stopped turn, the part the user saw)."""
        record = end.record
        turn = record.turn
        items = list(record.items)
        if end.stopped:
            turn.reply = await self._partial_text(record.conversation_id, turn.turn_id)
            if turn.reply:
                items.append({"role": "assistant", "content": turn.reply})
        model, provider = self._model_in_use()
        await asyncio.to_thread(self._write, record, turn, items, model, provider)
        if end.stopped:
            self._publish_cancelled(record.conversation_id, turn.turn_id, turn.reply)
        elif end.event is not None:
            self._publisher.publish(end.event.model_copy(update={"ts": time.time()}))
        await self._publisher.flush()
        await self._publisher.let_expire(record.conversation_id)
        return turn.reply

    @activity.defn(name="durachat_record_turns")
    async def record_turns(self, carried: RecordTurns) -> None:
        def write() -> None:
            self._store.ensure_conversation(
                carried.conversation_id,
                created_at=carried.created_at,
                title=carried.title,
                title_is_custom=carried.title_is_custom,
            )
            for turn in carried.turns:
                self._store.record_turn(carried.conversation_id, turn)

        await asyncio.to_thread(write)

    def _write(
        self,
        record: TurnRecord,
        turn: Turn,
        items: list[dict[str, Any]],
        model: str | None,
        provider: str | None,
    ) -> None:
        self._store.record_turn(
            record.conversation_id, turn, items=items, model=model, provider=provider
        )
        self._store.set_context_start(record.conversation_id, record.context_starts_at)

    def _model_in_use(self) -> tuple[str | None, str | None]:
        """The model the settings name now (the turn's model calls read the same)."""
        try:
            settings = self._settings()
        except SettingsError:
            return None, None
        return settings.model_name, settings.provider

    async def _partial_text(self, conversation_id: str, turn_id: str) -> str:
        assembled = TurnText()
        try:
            for _id, event in await self._reader.read_range(conversation_id):
                if event.turn_id == turn_id:
                    assembled.apply(event)
        except Exception as exc:  # Redis down: the partial text is lost, the turn is not
            activity.logger.warning("could not read the stopped turn's text: %s", exc)
        return assembled.text

    def _publish_cancelled(self, conversation_id: str, turn_id: str, partial: str) -> None:
        self._publisher.publish(
            TurnCancelled(conversation_id=conversation_id, turn_id=turn_id, partial=partial)
        )
