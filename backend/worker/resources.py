"""What the worker process shares between its activities: Redis, settings, the demo URL.

Created once when the worker starts (``init``), read by activities and by the
model provider through ``current()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from backend.local.settings import Settings
from backend.stream.redis_stream import EventPublisher, EventReader


@dataclass
class WorkerResources:
    data_dir: Path
    redis: aioredis.Redis
    publisher: EventPublisher
    reader: EventReader
    demo_base_url: str | None

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    def settings(self) -> Settings:
        """Read at every use, so the user's changes apply to the next call."""
        return Settings.load(self.settings_file)


_current: WorkerResources | None = None


def init(data_dir: Path, redis_url: str, demo_base_url: str | None) -> WorkerResources:
    global _current
    client = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
    _current = WorkerResources(
        data_dir=data_dir,
        redis=client,
        publisher=EventPublisher(client),
        reader=EventReader(client),
        demo_base_url=demo_base_url,
    )
    return _current


def current() -> WorkerResources:
    if _current is None:
        raise RuntimeError("worker resources are not initialised (not in the worker process?)")
    return _current


async def close() -> None:
    global _current
    if _current is not None:
        await _current.publisher.close()
        await _current.redis.aclose()
        _current = None
