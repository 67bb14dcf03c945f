"""Messages the user sent while the backend could not take them, held until it can.

A message is written to the conversation store, marked held, before the first try
to send it, and is marked delivered only once Temporal has accepted it. So a
message typed while the backend is down, or restarting after a crash, is shown in
its conversation and delivered when the backend is back, even if the window
itself was closed or crashed meanwhile. Exactly once: the message keeps the id the
client made, and the conversation workflow applies an id only once, however often
it is resent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from backend.client.api import DuraChatClient, Sent
from backend.client.errors import DuraChatError, MessageRejected, StoreError
from backend.client.store import ConversationStore
from backend.client.store_types import HeldMessage

log = logging.getLogger(__name__)

_HELD_LIST = TypeAdapter(list[HeldMessage])


class Outbox:
    """The held messages: rows of the conversation store not yet delivered."""

    def __init__(self, store: ConversationStore, legacy_file: Path | None = None) -> None:
        self.store = store
        if legacy_file is not None:
            self._take_over(legacy_file)

    def _take_over(self, path: Path) -> None:
        """Move the messages an earlier DuraChat held in a JSON file into the store."""
        try:
            held = _HELD_LIST.validate_json(path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValidationError, ValueError) as exc:
            log.error("the old outbox %s cannot be read (%s); it is left as it is", path, exc)
            return
        for message in held:
            self.store.add_message(
                message.conversation_id,
                message.message_id,
                message.text,
                at=message.held_at,
                delivered=False,
            )
        path.unlink()

    def hold(self, conversation_id: str, message_id: str, text: str) -> HeldMessage:
        """Record the message before it is sent; raises StoreError if it cannot be kept."""
        self.store.add_message(conversation_id, message_id, text, at=time.time(), delivered=False)
        return next(m for m in self.pending() if m.message_id == message_id)

    def release(self, message_id: str) -> None:
        """Forget a held message without sending it (its conversation was deleted, or
        the backend refused it for good)."""
        self.store.discard_held(message_id)

    def pending(self) -> list[HeldMessage]:
        """Held messages, oldest first (the order the user sent them)."""
        return self.store.undelivered()

    def __contains__(self, message_id: object) -> bool:
        return any(m.message_id == message_id for m in self.pending())


@dataclass
class Delivery:
    """What one pass over the outbox did."""

    sent: list[Sent] = field(default_factory=list)
    # Messages the backend will never take as they are (too long a conversation...):
    # released, with the reason, for the caller to show and give back to the user.
    refused: list[tuple[HeldMessage, str]] = field(default_factory=list)
    # True when it stopped at a message the backend could not take right now: that
    # one and those after it are still held.
    stalled: bool = False


async def deliver_held(
    outbox: Outbox, client: DuraChatClient, attempt_timeout: float = 5.0
) -> Delivery:
    """Send the held messages, oldest first; stop at the first that cannot go yet
    (a refused one is given back, in ``refused``, and the next goes on).

    An attempt is cut short after ``attempt_timeout`` (Temporal's client retries a
    dead server for several seconds): if it did reach the backend after all, the
    resend is recognised by its id and applied once. Nothing raises: what could
    not be sent stays held and ``stalled`` says so.
    """
    result = Delivery()
    for message in outbox.pending():
        if message.message_id not in outbox:
            continue  # released meanwhile (its conversation deleted): sending it would revive it
        try:
            sent = await asyncio.wait_for(
                client.send(message.text, message.conversation_id, message.message_id),
                attempt_timeout,
            )
        except MessageRejected as exc:
            result.refused.append((message, str(exc)))
            _release(outbox, message)
            continue
        except (DuraChatError, OSError, TimeoutError, ConnectionError):
            result.stalled = True  # the backend cannot take it now: it stays held
            break
        result.sent.append(sent)  # send marked it delivered
    return result


def _release(outbox: Outbox, message: HeldMessage) -> None:
    try:
        outbox.release(message.message_id)
    except StoreError as exc:
        # It stays held and goes again later: applied once all the same.
        log.warning("could not update the outbox (%s); %s will be resent", exc, message.message_id)
