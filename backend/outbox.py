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
from pathlib import Path

from pydantic import BaseModel, TypeAdapter, ValidationError
from temporalio.service import RPCError, RPCStatusCode

from backend.client_api import DuraChatClient, MessageRejected, Sent
from backend.private_files import write_private

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
        except (OSError, ValidationError, ValueError) as exc:
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


def is_backend_unreachable(exc: BaseException) -> bool:
    """Errors that mean "the backend is not there right now", as opposed to a refusal."""
    if isinstance(exc, RPCError):
        return exc.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
            RPCStatusCode.UNKNOWN,
        )
    return isinstance(exc, (OSError, TimeoutError, ConnectionError))


async def deliver_held(
    outbox: Outbox, client: DuraChatClient, attempt_timeout: float = 5.0
) -> list[Sent]:
    """Send every held message, oldest first; stop at the first that cannot go yet.

    Returns what was delivered. A message the backend refuses outright (it would
    never go) is released and logged rather than retried forever. An attempt is cut
    short after ``attempt_timeout`` (Temporal's client retries a dead server for
    several seconds): if it did reach the backend after all, the resend is
    recognised by its id and applied once.
    """
    delivered: list[Sent] = []
    for message in outbox.pending():
        try:
            sent = await asyncio.wait_for(
                client.send(message.text, message.conversation_id, message.message_id),
                attempt_timeout,
            )
        except MessageRejected as exc:
            log.error("a held message was refused and dropped: %s", exc)
            outbox.release(message.message_id)
            continue
        except Exception as exc:
            if is_backend_unreachable(exc):
                break
            raise
        outbox.release(message.message_id)
        delivered.append(sent)
    return delivered
