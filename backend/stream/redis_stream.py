"""Appending events to a conversation's Redis stream, and following it.

Publishing never makes the model wait for Redis: ``publish`` queues the event and
a background task sends whatever has queued in one pipelined round trip (so a
fast model is batched by Redis's own pace, and the first token goes out at once).

While Redis is down or restarting the publisher keeps the events and sends them,
in order, once it is back: a reply that ends during an outage still reaches the
subscriber whole. A pipeline cut off half-way is sent again, so every append must
be idempotent: each event carries its publisher's id and a number that counts up
per conversation, and the append script skips a number it has already applied.

Each append runs one Lua script that takes the next ``seq`` and XADDs the event
atomically, so ``seq`` is gap-free per conversation whoever publishes. Redis
syncs its append-only file once a second, so a SIGKILLed Redis can come back
without its last writes, counter included; the publisher therefore passes the
highest ``seq`` it has been given as a floor, and a ``seq`` is never handed out
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from backend.stream.events import StreamEvent, _Event, decode, encode

log = logging.getLogger(__name__)

MAXLEN = 50_000  # events kept per conversation (approximate trimming, cheap)
# Events kept while Redis is unreachable; beyond this the oldest go (the history
# in Temporal stays whole, only the live view of an hours-long outage thins out).
MAX_HELD = 200_000
MARKS_TTL_S = 7 * 24 * 3600  # publisher marks outlive any outage worth retrying
# Once a turn is in the conversation store its live events are needed only by a window
# still catching up: the stream and its counter expire this long after the last turn
# ended (an append clears the expiry), so Redis does not grow with the conversations.
IDLE_TTL_S = 120
HAND_OVER_EVERY = 16  # events parsed between event-loop turns for the sender, at most

# KEYS: stream, seq counter, publisher marks (hash: publisher id -> last number applied)
# ARGV: event JSON, MAXLEN, publisher id, event number, seq floor, marks TTL
_APPEND = """
local applied = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
if tonumber(ARGV[4]) <= applied then return 0 end
local seq = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[5])
if seq <= floor then
  seq = floor + 1
  redis.call('SET', KEYS[2], seq)
end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
           'seq', seq, 'p', ARGV[3], 'n', ARGV[4], 'e', ARGV[1])
return seq
"""


def stream_key(conversation_id: str) -> str:
    return f"durachat:{conversation_id}:events"


def seq_key(conversation_id: str) -> str:
    return f"durachat:{conversation_id}:seq"


def marks_key(conversation_id: str) -> str:
    return f"durachat:{conversation_id}:publishers"


@dataclass(frozen=True)
class _Outgoing:
    conversation_id: str
    number: int  # this publisher's count of events for the conversation, from 1
    payload: str


class EventPublisher:
    """One per process; ``publish`` is synchronous and never blocks on Redis."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        # EVALSHA by hand rather than redis-py's Script in a pipeline, which asks
        # SCRIPT EXISTS before every batch: a second round trip on the token path.
        self._sha = hashlib.sha1(_APPEND.encode()).hexdigest()
        self._id = uuid.uuid4().hex[:16]
        self._numbers: dict[str, int] = {}
        self._floors: dict[str, int] = {}  # highest seq Redis gave us, per conversation
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._held: list[_Outgoing] = []  # a batch Redis has not confirmed yet
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._in_flight = False
        self._since_turn = 0
        self._last_error_log = 0.0

    def publish(self, event: _Event) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        self._idle.clear()
        cid = event.conversation_id
        number = self._numbers.get(cid, 0) + 1
        self._numbers[cid] = number
        self._queue.put_nowait(_Outgoing(cid, number, encode(event)))

    async def hand_over(self) -> None:
        """Give the sender a turn of the event loop, now and then.

        A model streaming from a full socket buffer parses event after event
        without ever yielding to the event loop: without this the sender would
        neither start a batch nor read Redis's answer to the last one until the
        whole burst was parsed, and the tokens would reach the subscriber all at
        the end. A turn whenever nothing is in flight, and every few events
        otherwise, keeps batches flowing while the burst is parsed.
        """
        self._since_turn += 1
        if not self._in_flight or self._since_turn >= HAND_OVER_EVERY:
            self._since_turn = 0
            await asyncio.sleep(0)

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait until everything published so far reached Redis, at most ``timeout``.

        Whatever Redis has not taken by then stays queued and goes out when it can.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def _drain(self) -> None:
        backoff = 0.05
        while True:
            if not self._held:
                if self._queue.empty():
                    self._idle.set()
                self._held.append(await self._queue.get())
            while not self._queue.empty():
                self._held.append(self._queue.get_nowait())
            self._in_flight = True
            try:
                await self._send(self._held)
            except NoScriptError:  # a restarted Redis has no scripts yet
                try:
                    await self._redis.script_load(_APPEND)
                except (RedisError, OSError):
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 1.0)
                continue  # appends are idempotent: the whole batch again is safe
            except (RedisError, OSError) as exc:
                self._log_failure(exc)
                self._drop_beyond_limit()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            finally:
                self._in_flight = False
            backoff = 0.05
            self._held = []

    async def _send(self, batch: list[_Outgoing]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in batch:
                cid = item.conversation_id
                pipe.evalsha(
                    self._sha,
                    3,
                    stream_key(cid),
                    seq_key(cid),
                    marks_key(cid),
                    item.payload,
                    MAXLEN,
                    self._id,
                    item.number,
                    self._floors.get(cid, 0),
                    MARKS_TTL_S,
                )
            seqs = await pipe.execute()
        for item, seq in zip(batch, seqs, strict=True):
            cid = item.conversation_id
            self._floors[cid] = max(self._floors.get(cid, 0), int(seq))

    def _drop_beyond_limit(self) -> None:
        excess = len(self._held) - MAX_HELD
        if excess > 0:
            del self._held[:excess]
            log.warning("Redis unreachable: dropped %d oldest live event(s)", excess)

    def _log_failure(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log > 5:  # one line per outage, not one per retry
            # Not the text of a reply error: redis-py puts the failing command in it,
            # and that holds conversation text, which has no place in a log.
            reason = "" if isinstance(exc, ResponseError) else str(exc)
            log.warning(
                "could not publish %d live event(s) to Redis (%s: %s); holding them, retrying",
                len(self._held),
                type(exc).__name__,
                reason,
            )
            self._last_error_log = now

    async def let_expire(self, conversation_id: str, ttl_s: int = IDLE_TTL_S) -> None:
        """Let the conversation's stream expire once its turns are stored (see
        IDLE_TTL_S); a next turn's first append keeps it again. Best effort: with
        Redis down the stream simply stays."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.expire(stream_key(conversation_id), ttl_s)
                pipe.expire(seq_key(conversation_id), ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("could not let a stream expire (%s)", type(exc).__name__)

    async def close(self) -> None:
        await self.flush()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class EventReader:
    """Reads a conversation's stream: a range of what is there, then live with XREAD BLOCK.

    ``follow`` survives Redis restarts: it reconnects and continues after the last
    id it delivered, and skips any event it has already delivered (a publisher
    re-sends what a crashed Redis lost), so nothing is delivered twice.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def last_id(self, conversation_id: str) -> str:
        entries = await self._redis.xrevrange(stream_key(conversation_id), count=1)
        return _id(entries[0][0]) if entries else "0-0"

    async def read_range(
        self, conversation_id: str, after: str = "0-0", seen: Delivered | None = None
    ) -> list[tuple[str, StreamEvent]]:
        """The events after ``after``; ``seen`` (from ``follow``) skips those it gave."""
        start = "-" if after == "0-0" else f"({after}"
        entries = await self._redis.xrange(stream_key(conversation_id), min=start, max="+")
        seen = seen if seen is not None else Delivered()
        return [(_id(eid), _decode(fields)) for eid, fields in entries if seen.is_new(fields)]

    async def follow(
        self,
        conversation_id: str,
        after: str,
        block_ms: int = 1000,
        seen: Delivered | None = None,
    ) -> AsyncIterator[tuple[str, StreamEvent | None]]:
        """Yield ``(id, event)`` as events arrive; ``(after, None)`` after each idle block.

        The idle ticks let a caller check other things (is the turn over? is Redis
        gone?) without a second task.
        """
        key = stream_key(conversation_id)
        seen = seen if seen is not None else Delivered()
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
                    if seen.is_new(fields):
                        yield after, _decode(fields)


class Delivered:
    """Per publisher, the highest event number delivered; numbers arrive in order."""

    def __init__(self) -> None:
        self._last: dict[bytes, int] = {}

    def is_new(self, fields: dict[bytes, bytes]) -> bool:
        publisher, number = fields.get(b"p"), fields.get(b"n")
        if publisher is None or number is None:
            return True
        n = int(number)
        if n <= self._last.get(publisher, 0):
            return False
        self._last[publisher] = n
        return True


def _id(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _decode(fields: dict[bytes, bytes]) -> StreamEvent:
    return decode(fields[b"e"], int(fields[b"seq"]))
