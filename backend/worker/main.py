"""The worker process: polls the ``durachat`` task queue until SIGTERM, then drains.

Started and watched by the supervisor; it prints ``READY_LINE`` on stdout once it
is polling, and logs to stderr (the supervisor writes that to logs/worker.log).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta

from temporalio.worker import Worker

from backend.temporal_connect import TASK_QUEUE, wait_until_serving
from backend.worker.protocol import READY_LINE, WorkerEnv
from backend.workflows.health import HealthWorkflow

log = logging.getLogger("durachat.worker")


async def run(env: WorkerEnv) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # The supervisor starts us in parallel with the servers: wait for Temporal.
    client = await wait_until_serving(env.temporal_address, timeout=120)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[HealthWorkflow],
        graceful_shutdown_timeout=timedelta(seconds=5),
    )
    async with worker:
        print(READY_LINE, flush=True)
        log.info("polling task queue %r on %s", TASK_QUEUE, env.temporal_address)
        await stop.wait()
        log.info("stopping: draining the worker")
    # Leaving the context manager shut the worker down; drop the client before the
    # interpreter exits (an open core client at exit can abort the interpreter).
    del worker, client


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    env = WorkerEnv.from_environ()
    asyncio.run(run(env))
    return 0
