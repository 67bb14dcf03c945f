"""Checks that a running backend really works, from the outside."""

from __future__ import annotations

import asyncio
import time

import redis

from backend.local.runtime_info import RuntimeInfo
from backend.temporal_connect import TASK_QUEUE, connect
from backend.workflows.health import HealthWorkflow
from tests.support.serve_process import ServeProcess


def assert_backend_works(sp: ServeProcess) -> None:
    """A workflow runs end to end on the worker, and Redis answers with the password."""
    runtime = sp.runtime()

    async def run_health() -> str:
        client = await connect(runtime["temporal"])
        return await client.execute_workflow(
            HealthWorkflow.run, False, id=f"check-{time.time_ns()}", task_queue=TASK_QUEUE
        )

    assert asyncio.run(asyncio.wait_for(run_health(), 30)) == "ok after 0 pings"
    with redis.Redis.from_url(RuntimeInfo.model_validate(runtime).redis_url()) as r:
        assert r.ping()
