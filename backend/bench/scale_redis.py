"""Redis memory: what the live streams cost, and what each conversation leaves behind.

Streams expire IDLE_TTL_S after a conversation's last turn is stored. Rather than
wait for that, a number of real one-turn conversations are run and each of their
keys is read: its time to live and its size (``MEMORY USAGE``). Keys that outlive
IDLE_TTL_S are what an idle conversation costs; that, times 10,000, plus Redis at
start, is the extrapolation printed (and labelled as one).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from backend.bench.scale_data import Writer
from backend.bench.scale_turns import one_turn, prompt
from backend.client.api import DuraChatClient
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from backend.stream.redis_stream import IDLE_TTL_S, marks_key, seq_key, stream_key

IDLE_CONVERSATIONS = 10_000  # the target's number of idle conversations
KEY_KINDS: dict[str, Callable[[str], str]] = {
    "events": stream_key,
    "seq": seq_key,
    "publishers": marks_key,
}


def connect(data_dir: Path) -> aioredis.Redis:
    info = RuntimeInfo.read(DataDir(data_dir).runtime_file)
    if info is None:
        raise RuntimeError(f"no runtime.json in {data_dir}: is the backend running?")
    return aioredis.Redis.from_url(info.redis_url())


async def used_memory(redis: aioredis.Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def key_facts(redis: aioredis.Redis, key: str) -> dict[str, Any]:
    """A key's time to live (s; -1 none, -2 no such key) and its bytes (MEMORY USAGE)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.pttl(key)
        pipe.memory_usage(key, samples=0)  # 0: every element counted, not a sample
        pttl, size = await pipe.execute()
    ttl = pttl / 1000 if pttl >= 0 else float(pttl)
    return {"ttl_s": round(ttl, 1), "bytes": int(size or 0)}


def _lifetime(ttl_s: float) -> str:
    if ttl_s == -2:
        return "gone"
    if ttl_s == -1:
        return "no_ttl"
    return "expires_with_stream" if ttl_s <= IDLE_TTL_S else "outlives_stream"


async def conversation_keys(redis: aioredis.Redis, conversation_id: str) -> dict[str, Any]:
    return {kind: await key_facts(redis, key(conversation_id)) for kind, key in KEY_KINDS.items()}


async def one_turn_conversations(
    client: DuraChatClient, count: int, reply_tokens: int, progress: Callable[[str], None]
) -> list[str]:
    writer = Writer(random.Random(11), "coffee", "idlebench")
    ids = []
    for number in range(1, count + 1):
        cid, timing = await one_turn(client, prompt(writer, number, reply_tokens), None)
        if timing.status != "done":
            raise RuntimeError(f"a one-turn conversation ended {timing.status}")
        ids.append(cid)
        if number % 100 == 0 or number == count:
            progress(f"one-turn conversations: {number}/{count}")
    return ids


def residue(per_conversation: list[dict[str, Any]]) -> dict[str, Any]:
    """Per conversation on average: bytes by key kind and lifetime, and the TTLs seen."""
    n = max(1, len(per_conversation))
    by_lifetime: dict[str, float] = {}
    kinds: dict[str, dict[str, Any]] = {}
    for keys in per_conversation:
        for kind, facts in keys.items():
            life = _lifetime(facts["ttl_s"])
            by_lifetime[life] = by_lifetime.get(life, 0) + facts["bytes"] / n
            seen = kinds.setdefault(kind, {"bytes": 0.0, "ttl_s": set(), "lifetime": set()})
            seen["bytes"] += facts["bytes"] / n
            seen["ttl_s"].add(facts["ttl_s"])
            seen["lifetime"].add(life)
    return {
        "bytes_by_lifetime": {k: round(v) for k, v in by_lifetime.items()},
        "keys": {
            kind: {
                "bytes": round(s["bytes"]),
                "ttl_s_min": min(s["ttl_s"]),
                "ttl_s_max": max(s["ttl_s"]),
                "lifetime": sorted(s["lifetime"]),
            }
            for kind, s in kinds.items()
        },
    }


def extrapolate(at_start: int, idle_bytes_per_conversation: float) -> int:
    return round(at_start + IDLE_CONVERSATIONS * idle_bytes_per_conversation)


async def measure_idle(
    client: DuraChatClient,
    redis: aioredis.Redis,
    count: int,
    reply_tokens: int,
    at_start: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    before = await used_memory(redis)
    ids = await one_turn_conversations(client, count, reply_tokens, progress)
    after = await used_memory(redis)
    keys = [await conversation_keys(redis, cid) for cid in ids]
    kept = residue(keys)
    idle = kept["bytes_by_lifetime"]
    after_streams = idle.get("outlives_stream", 0) + idle.get("no_ttl", 0)
    after_marks = idle.get("no_ttl", 0)
    return {
        "conversations": count,
        "reply_tokens": reply_tokens,
        "used_memory_before": before,
        "used_memory_after": after,
        "live_bytes_per_conversation": round((after - before) / max(1, count)),
        **kept,
        "idle_ttl_s": IDLE_TTL_S,
        "idle_bytes_per_conversation": after_streams,
        "never_expiring_bytes_per_conversation": after_marks,
        "extrapolated_idle_used_memory": extrapolate(at_start, after_streams),
        "extrapolated_idle_conversations": IDLE_CONVERSATIONS,
        "extrapolated_live_used_memory": extrapolate(at_start, (after - before) / max(1, count)),
    }
