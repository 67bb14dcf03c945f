"""Turns a reply's frames into paced bytes, and injects stream faults on the way.

The wire modules (:mod:`.chat_wire`, :mod:`.responses_wire`) only say what to send; this
module decides when. Each content token is one frame; frames due at the same moment are
written together, so at full speed the server makes a few large writes instead of one
write (and one pass through Starlette and h11) per token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal

from backend.demo_model.faults import FaultSpec
from backend.demo_model.script import STAMP_PLACEHOLDER

FrameKind = Literal["meta", "token", "final"]

# Enough to amortise per-write overhead, small enough that a reader sees steady progress.
_BATCH_BYTES = 32 * 1024
# Sleeps longer than this also watch for server shutdown, so a slow stream cannot hold
# up a stop; shorter ones just sleep, which is cheaper per token.
_WATCH_SHUTDOWN_AFTER = 0.25

MALFORMED_LINE = b"data: {this is not json\n\n"


@dataclass(frozen=True, slots=True)
class Frame:
    """Bytes for the wire. ``token`` frames are paced and counted; ``final`` frames close the
    reply (a fault set past the last token strikes before the first of them)."""

    data: bytes
    kind: FrameKind


class DropConnection(Exception):
    """Raised inside a response body to cut the TCP connection mid-response.

    uvicorn answers an exception after the response has started by closing the transport
    without the terminating chunk, which is exactly what a client sees when a server or a
    network path dies. :class:`QuietDropFilter` keeps these intentional drops out of the log.
    """


class QuietDropFilter(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" record for intentional drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


def install_quiet_drop_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, QuietDropFilter) for existing in logger.filters):
        logger.addFilter(QuietDropFilter())


async def paced_bytes(
    frames: Iterable[Frame],
    *,
    tokens_per_second: float,
    fault: FaultSpec | None,
    stopping: asyncio.Event,
    stamped: bool = False,
) -> AsyncIterator[bytes]:
    """Yield the frames' bytes, token ``n`` no earlier than ``start + n / tokens_per_second``.

    Scheduling against the start time (not sleeping a fixed interval per token) keeps the
    total duration exact however long each write takes. ``tokens_per_second`` 0 means no
    pacing at all. With ``stamped`` every stamp placeholder becomes the wall-clock time
    of the write that carries it.
    """
    if stamped:
        async for data in _stamp_on_write(
            paced_bytes(frames, tokens_per_second=tokens_per_second, fault=fault, stopping=stopping)
        ):
            yield data
        return
    loop = asyncio.get_running_loop()
    start = loop.time()
    interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
    buffer = bytearray()
    tokens_sent = 0
    fault_pending = fault is not None
    for frame in frames:
        if fault_pending and fault is not None and _fault_due(fault, frame, tokens_sent):
            fault_pending = False
            if fault.kind == "malformed":
                buffer += MALFORMED_LINE
            else:
                if buffer:
                    yield bytes(buffer)
                    buffer.clear()
                if fault.kind == "hang":
                    # Nothing more until the client leaves (Starlette then cancels this
                    # generator) or the server stops; it costs nothing while it waits.
                    await stopping.wait()
                raise DropConnection(f"demo fault {fault}")
        if frame.kind == "token":
            if interval:
                delay = start + tokens_sent * interval - loop.time()
                if delay > 0:
                    if buffer:
                        yield bytes(buffer)
                        buffer.clear()
                    await _sleep_unless_stopping(delay, stopping)
            tokens_sent += 1
        buffer += frame.data
        if len(buffer) >= _BATCH_BYTES:
            yield bytes(buffer)
            buffer.clear()
            if stopping.is_set():
                raise DropConnection("demo model is shutting down")
            # A write that did not block never gave the event loop back; without this a
            # long unpaced stream would starve every other connection.
            await asyncio.sleep(0)
    if buffer:
        yield bytes(buffer)


_PLACEHOLDER_BYTES = STAMP_PLACEHOLDER.encode()


async def _stamp_on_write(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for data in chunks:
        yield data.replace(_PLACEHOLDER_BYTES, b"@%.6f" % time.time())


def _fault_due(fault: FaultSpec, frame: Frame, tokens_sent: int) -> bool:
    if frame.kind == "token":
        return tokens_sent == fault.at
    return frame.kind == "final"


async def _sleep_unless_stopping(delay: float, stopping: asyncio.Event) -> None:
    if delay > _WATCH_SHUTDOWN_AFTER:
        try:
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        except TimeoutError:
            return
    else:
        await asyncio.sleep(delay)
    if stopping.is_set():
        raise DropConnection("demo model is shutting down")
