"""The worker child: ``python -m backend.worker`` (``durachat worker`` in the bundle), ready
when it prints its ready line."""

from __future__ import annotations

from backend.local.bundle import own_command
from backend.local.paths import DataDir
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.worker.protocol import READY_LINE, WorkerEnv


def worker_spec(data: DataDir, env: WorkerEnv) -> ChildSpec:
    async def probe(child: ChildProcess) -> None:
        await child.wait_for_line(lambda line: line.strip() == READY_LINE)

    return ChildSpec(
        name="worker",
        argv=own_command("worker", "backend.worker"),
        env={**env.to_environ(), "PYTHONUNBUFFERED": "1"},
        api_keys=True,  # the one child that calls models
        probe=probe,
        # The first start imports the agents SDK; a cold disk can make that slow.
        ready_timeout=120,
        # Long enough for a running model call to be abandoned cleanly; Temporal
        # retries it on the next worker anyway.
        stop_timeout=8,
    )
