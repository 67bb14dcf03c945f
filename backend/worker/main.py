"""The worker process: polls the ``durachat`` task queue until SIGTERM, then drains.

Started and watched by the supervisor; it prints ``READY_LINE`` on stdout once it
is polling, and logs to stderr (the supervisor writes that to logs/worker.log).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.openai_agents import ModelActivityParameters, OpenAIAgentsPlugin
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from backend.encryption.payload_key import require_keys
from backend.local.paths import DataDir
from backend.mcp.manager import McpManager
from backend.models.provider import DuraChatModelProvider
from backend.temporal_connect import (
    NAMESPACE,
    TASK_QUEUE,
    wait_until_serving,
    worker_encryption_plugin,
)
from backend.tools.activities import ToolActivities
from backend.tools.setup import ServerSetup
from backend.worker.interceptors import TurnContextInterceptor
from backend.worker.payload_converter import worker_payload_converter_plugin
from backend.worker.protocol import READY_LINE, WorkerEnv
from backend.worker.services import WorkerServices
from backend.workflows import trusted_input
from backend.workflows.conversation import ConversationWorkflow
from backend.workflows.health import HealthWorkflow
from backend.workflows.tool_call_activities import ToolCallActivities
from backend.workflows.turn_activities import TurnActivities

log = logging.getLogger("durachat.worker")

# Model calls: a Stop must reach a streaming call quickly (heartbeats every half of
# heartbeat_timeout), provider errors are retried with backoff a few times, and a
# 429's Retry-After is honoured by the plugin (next_retry_delay).
MODEL_PARAMS = ModelActivityParameters(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=2),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=500),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=10),
        maximum_attempts=5,
    ),
)


async def _no_servers() -> list[ServerSetup]:
    return []


def build_worker(
    client: Client,
    services: WorkerServices,
    mcp_servers: Callable[[], Awaitable[list[ServerSetup]]] | None = None,
) -> Worker:
    tools = ToolActivities(services.publisher, services.settings, services.store)
    turns = TurnActivities(services.publisher, services.reader, services.store, services.settings)
    tool_calls = ToolCallActivities(
        services.publisher, services.store, services.settings, mcp_servers or _no_servers
    )
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[HealthWorkflow, ConversationWorkflow],
        activities=[
            tools.run_tool,
            turns.publish_turn_event,
            turns.collect_stopped_turn,
            turns.end_turn,
            turns.record_turns,
            tool_calls.tool_setup,
            tool_calls.request_approval,
            tool_calls.settle_approval,
        ],
        interceptors=[TurnContextInterceptor()],
        # Outside Temporal's sandbox: it re-checked every builtin call and ran code to
        # find each payload's context, ~2 ms of every turn's first token on this
        # machine (docs/performance.md). Its check that workflow code stays
        # deterministic runs in the tests instead, which replay every history they
        # make inside the sandbox (tests/backend/conversation/test_turns.py).
        workflow_runner=UnsandboxedWorkflowRunner(),
        # Closing the app should be quick; a model call cut short is retried on the
        # next worker from its start (the subscriber drops the partial attempt).
        graceful_shutdown_timeout=timedelta(seconds=1),
        # A workflow task waits this long on the sticky queue of a worker that died
        # before it goes to the next worker: a decision sent to a conversation whose
        # worker was killed is taken this much sooner than at the default 10 s.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=2),
    )


async def run(env: WorkerEnv) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    services = WorkerServices.open(Path(env.data_dir), env.redis_url, env.demo_base_url)
    keys = require_keys()  # the supervisor made one before starting us
    trusted_input.encrypted_since = keys.encrypted_since
    # The supervisor starts us in parallel with the servers: wait for Temporal.
    await wait_until_serving(env.temporal_address, timeout=120, keys=keys)
    provider = DuraChatModelProvider(
        services.settings,
        services.publisher,
        services.demo_base_url,
        turns_context=services.store.turns_context,
    )

    async def connect(mcp_servers: dict[str, Callable[[], Any]] | None = None) -> Client:
        plugin = OpenAIAgentsPlugin(
            model_params=MODEL_PARAMS, model_provider=provider, mcp_servers=mcp_servers
        )
        return await Client.connect(
            env.temporal_address,
            namespace=NAMESPACE,
            # The codec last: it seals what the converters before it made.
            plugins=[plugin, worker_payload_converter_plugin(), worker_encryption_plugin(keys)],
        )

    data = DataDir.resolve(env.data_dir)
    mcp = McpManager(connect, data.mcp_file, data.mcp_status_file, data.logs)
    client = await connect()
    worker = build_worker(client, services, mcp.ready)
    async with worker:
        mcp_task = asyncio.create_task(mcp.run(stop))
        print(READY_LINE, flush=True)
        log.info("polling task queue %r on %s", TASK_QUEUE, env.temporal_address)
        await stop.wait()
        log.info("stopping: draining the worker")
        await mcp_task
    await services.close()
    # Leaving the context manager shut the worker down; drop the client before the
    # interpreter exits (an open core client at exit can abort the interpreter).
    del worker, client


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    # The openai package's HTTP client logs every request at INFO: a line per model
    # call that says nothing the worker's own log does not.
    for name in ("httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    env = WorkerEnv.from_environ()
    asyncio.run(run(env))
    gc.collect()  # release the Temporal core client before the interpreter finalizes
    return 0
