"""Appending events to a conversation's Redis stream, and following it.

Publishing never makes the model wait for Redis: ``publish`` queues the event and
a background task sends whatever has queued in one pipelined round trip (so a
fast model is batched by Redis's own pace, and the first token goes out at once).
A failed publish is logged and dropped: the durable history in Temporal is the
truth, the stream is only the live view of it.

Each append runs one Lua script that takes the next ``seq`` and XADDs the event
atomically, so ``seq`` is gap-free per conversation whoever publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from backend.stream.events import StreamEvent, _Event, decode, encode

log = logging.getLogger(__name__)

MAXLEN = 50_000  # events kept per conversation (approximate trimming, cheap)

_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'seq', seq, 'e', ARGV[1])
return seq
"""


def stream_key(conversation_id: str) -> str:
    return f"durachat:{conversation_id}:events"


def seq_key(conversation_id: str) -> str:
    return f"durachat:{conversation_id}:seq"


class EventPublisher:
    """One per process; ``publish`` is synchronous and never blocks on Redis."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_APPEND)
        self._queue: asyncio.Queue[_Event] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._last_error_log = 0.0

    def publish(self, event: _Event) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        self._idle.clear()
        self._queue.put_nowait(event)

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait until everything published so far reached Redis (or was given up)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def _drain(self) -> None:
        while True:
            if self._queue.empty():
                self._idle.set()
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for event in batch:
                        await self._script(
                            keys=[
                                stream_key(event.conversation_id),
                                seq_key(event.conversation_id),
                            ],
                            args=[encode(event), MAXLEN],
                            client=pipe,
                        )
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                self._log_failure(exc, len(batch))

    def _log_failure(self, exc: Exception, dropped: int) -> None:
        now = time.monotonic()
        if now - self._last_error_log > 5:  # one line per burst, not one per token
            log.warning("could not publish %d live event(s) to Redis: %s", dropped, exc)
            self._last_error_log = now

    async def close(self) -> None:
        await self.flush()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class EventReader:
    """Reads a conversation's stream: a range of what is there, then live with XREAD BLOCK.

    ``follow`` survives Redis restarts: it reconnects and continues after the last
    id it delivered, so nothing is lost or delivered twice.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def last_id(self, conversation_id: str) -> str:
        entries = await self._redis.xrevrange(stream_key(conversation_id), count=1)
        return _id(entries[0][0]) if entries else "0-0"

    async def read_range(
        self, conversation_id: str, after: str = "0-0"
    ) -> list[tuple[str, StreamEvent]]:
        start = "-" if after == "0-0" else f"({after}"
        entries = await self._redis.xrange(stream_key(conversation_id), min=start, max="+")
        return [(_id(eid), _decode(fields)) for eid, fields in entries]

    async def follow(
        self, conversation_id: str, after: str, block_ms: int = 1000
    ) -> AsyncIterator[tuple[str, StreamEvent | None]]:
        """Yield ``(id, event)`` as events arrive; ``(after, None)`` after each idle block.

        The idle ticks let a caller check other things (is the turn over? is Redis
        gone?) without a second task.
        """
        key = stream_key(conversation_id)
        backoff = 0.1
        while True:
            try:
                reply = await self._redis.xread({key: after}, block=block_ms, count=1000)
                backoff = 0.1
            except (RedisError, OSError) as exc:
                log.info("lost Redis while following %s (%s); reconnecting", conversation_id, exc)
                yield after, None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if not reply:
                yield after, None
                continue
            for _key, entries in reply:
                for eid, fields in entries:
                    after = _id(eid)
                    yield after, _decode(fields)


def _id(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _decode(fields: dict[bytes, bytes]) -> StreamEvent:
    return decode(fields[b"e"], int(fields[b"seq"]))
