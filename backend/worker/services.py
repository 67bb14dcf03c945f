"""What the worker process opens once and hands to its activities: Redis, the live
event publisher and reader, the conversation store, and the user's settings.

Each activity class and the model provider get the parts they use through their
constructor (``backend/worker/main.py`` wires them); nothing reads a global.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from backend.client.store import ConversationStore
from backend.local.settings import Settings
from backend.stream.redis_stream import EventPublisher, EventReader


@dataclass
class WorkerServices:
    data_dir: Path
    redis: aioredis.Redis
    publisher: EventPublisher
    reader: EventReader
    store: ConversationStore
    demo_base_url: str | None

    @classmethod
    def open(cls, data_dir: Path, redis_url: str, demo_base_url: str | None) -> WorkerServices:
        client = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        return cls(
            data_dir=data_dir,
            redis=client,
            publisher=EventPublisher(client),
            reader=EventReader(client),
            store=ConversationStore.in_data_dir(data_dir),
            demo_base_url=demo_base_url,
        )

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    def settings(self) -> Settings:
        """Read at every use, so the user's changes apply to the next call."""
        return Settings.load(self.settings_file)

    async def close(self) -> None:
        await self.publisher.close()
        await self.redis.aclose()
        await asyncio.to_thread(self.store.close)
