"""A tiny workflow that proves the whole backend works: server, worker, persistence.

The supervisor runs it once before it reports "ready" (``hold=False``); tests
start a held one to check that workflow state survives a restart.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="Health")
class HealthWorkflow:
    def __init__(self) -> None:
        self._pings = 0
        self._released = False

    @workflow.run
    async def run(self, hold: bool) -> str:
        if hold:
            await workflow.wait_condition(lambda: self._released)
        return f"ok after {self._pings} pings"

    @workflow.signal
    def ping(self) -> None:
        self._pings += 1

    @workflow.signal
    def release(self) -> None:
        self._released = True

    @workflow.query
    def pings(self) -> int:
        return self._pings
