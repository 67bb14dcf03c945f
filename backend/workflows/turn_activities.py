"""Small activities the conversation workflow runs as local activities (no server round
trip): publishing turn-level events, and collecting a stopped reply's partial text."""

from __future__ import annotations

import time

from pydantic import BaseModel
from temporalio import activity

from backend.stream.events import TurnCancelled, TurnDone, TurnFailed, TurnStarted
from backend.stream.turn_text import TurnText
from backend.worker import resources

TurnEvent = TurnStarted | TurnDone | TurnFailed


class StoppedTurn(BaseModel):
    conversation_id: str
    turn_id: str


@activity.defn(name="durachat_publish")
async def publish_turn_event(event: TurnEvent) -> None:
    res = resources.current()
    res.publisher.publish(event.model_copy(update={"ts": time.time()}))
    await res.publisher.flush()


@activity.defn(name="durachat_collect_stopped")
async def collect_stopped_turn(stopped: StoppedTurn) -> str:
    """The text the user saw before Stop (from the live stream), published as the
    turn's end; the workflow keeps it in the history, marked stopped."""
    res = resources.current()
    assembled = TurnText()
    try:
        for _id, event in await res.reader.read_range(stopped.conversation_id):
            if event.turn_id == stopped.turn_id:
                assembled.apply(event)
    except Exception as exc:  # Redis down: the partial text is lost, the turn is not
        activity.logger.warning("could not read the stopped turn's text: %s", exc)
    partial = assembled.text
    res.publisher.publish(
        TurnCancelled(
            conversation_id=stopped.conversation_id, turn_id=stopped.turn_id, partial=partial
        )
    )
    await res.publisher.flush()
    return partial
