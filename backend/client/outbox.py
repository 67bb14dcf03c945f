"""Messages the user sent while the backend could not take them, held until it can.

A message goes into the outbox (a 0600 file in the data dir) before the first try
to send it and leaves only once Temporal has accepted it. So a message typed while
the backend is down, or restarting after a crash, is delivered when it is back,
even if the window itself was closed or crashed meanwhile. Exactly once: the
message keeps the id the client made, and the conversation workflow applies an id
only once, however often it is resent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, TypeAdapter, ValidationError
from temporalio.service import RPCError

from backend.client.api import BackendUnreachable, DuraChatClient, MessageRejected, Sent
from backend.local.private_files import write_private

log = logging.getLogger(__name__)


class HeldMessage(BaseModel):
    conversation_id: str
    message_id: str
    text: str
    held_at: float


_HELD_LIST = TypeAdapter(list[HeldMessage])


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: dict[str, HeldMessage] = {m.message_id: m for m in self._read()}

    def _read(self) -> list[HeldMessage]:
        try:
            return _HELD_LIST.validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.error("the outbox %s cannot be read (%s)", self.path, exc)
            return []
        except (ValidationError, ValueError) as exc:
            # Keep the damaged file for the user to inspect rather than overwrite it.
            kept = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            self.path.replace(kept)
            log.error("the outbox %s was unreadable (%s); kept it as %s", self.path, exc, kept)
            return []

    def _write(self) -> None:
        payload = [m.model_dump() for m in self._held.values()]
        write_private(self.path, json.dumps(payload, ensure_ascii=False))

    def hold(self, conversation_id: str, message_id: str, text: str) -> HeldMessage:
        """Record the message before it is sent; raises OSError if it cannot be kept."""
        message = HeldMessage(
            conversation_id=conversation_id, message_id=message_id, text=text, held_at=time.time()
        )
        self._held[message_id] = message
        self._write()
        return message

    def release(self, message_id: str) -> None:
        """The backend has the message: forget it."""
        if self._held.pop(message_id, None) is not None:
            self._write()

    def pending(self) -> list[HeldMessage]:
        """Held messages, oldest first (the order the user sent them)."""
        return sorted(self._held.values(), key=lambda m: m.held_at)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._held


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
    """Send the held messages, oldest first; stop at the first that cannot go yet.

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
        except Exception as exc:
            if not isinstance(
                exc, (RPCError, BackendUnreachable, OSError, TimeoutError, ConnectionError)
            ):
                log.exception("sending a held message failed; it stays held")
            result.stalled = True
            break
        _release(outbox, message)
        result.sent.append(sent)
    return result


def _release(outbox: Outbox, message: HeldMessage) -> None:
    try:
        outbox.release(message.message_id)
    except OSError as exc:
        # It stays on disk and goes again later: applied once all the same.
        log.warning("could not update the outbox (%s); %s will be resent", exc, message.message_id)
