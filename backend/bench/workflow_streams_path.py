"""Temporal's own streaming path, for comparison: ``Runner.run_streamed`` under the
agents plugin, raw model events on a Workflow Streams topic, read by its subscriber.

Its worker runs in a process of its own (``backend.bench.workflow_streams.worker``):
the agents plugin sets global runner overrides, so one process holds only one.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from temporalio.client import Client

from backend.bench.child_process import ready_process
from backend.bench.workflow_streams import subscriber
from backend.temporal_connect import connect

TASK_QUEUE = "durachat-bench-workflow-streams"


class WorkflowStreamsPath:
    name = "workflow_streams"

    def __init__(self, client: Client, worker: asyncio.subprocess.Process) -> None:
        self._client = client
        self._worker = worker
        self._workflow_id: str | None = None
        self._next_offset: int | None = None

    @property
    def pid(self) -> int:
        return self._worker.pid

    @classmethod
    @asynccontextmanager
    async def running(
        cls, temporal: str, model_base_url: str
    ) -> AsyncIterator[WorkflowStreamsPath]:
        argv = [
            sys.executable, "-m", "backend.bench.workflow_streams.worker",
            "--temporal", temporal, "--task-queue", TASK_QUEUE,
            "--model-base-url", model_base_url,
        ]  # fmt: skip
        async with ready_process(argv, "the Workflow Streams worker") as worker:
            path = cls(await connect(temporal), worker)
            try:
                yield path
            finally:
                await path._finish()

    async def new_conversation(self) -> None:
        await self._finish()
        self._workflow_id = f"bench-streams-{uuid.uuid4()}"
        await subscriber.start_conversation(self._client, self._workflow_id, TASK_QUEUE)

    async def ask(self, prompt: str, on_text: Callable[[str], None]) -> None:
        if self._workflow_id is None:
            await self.new_conversation()
        assert self._workflow_id is not None
        self._next_offset = await subscriber.ask_and_follow(
            self._client, self._workflow_id, prompt, on_text, self._next_offset
        )

    async def _finish(self) -> None:
        if self._workflow_id is not None:
            await subscriber.finish(self._client, self._workflow_id)
            self._workflow_id = None
            self._next_offset = None

    async def close(self) -> None:
        await self._finish()
