"""Heartbeats for the MCP worker's activities.

The plugin's MCP activities do not heartbeat, so without this a worker that dies
in the middle of an MCP call would leave the turn waiting out the call's whole time
limit before Temporal noticed. Beating while each attempt runs lets the workflow
give its calls a short heartbeat timeout: a dead worker is noticed in seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

BEAT_EVERY_S = 1.0


class HeartbeatInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Beating(next)


class _Beating(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        beating = asyncio.create_task(_beat())
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()


async def _beat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(BEAT_EVERY_S)
