"""The Workflow Streams path's worker, a process of its own.

``python -m backend.bench.workflow_streams.worker --temporal HOST:PORT --task-queue Q
--model-base-url URL`` prints ``{"event": "ready"}`` once polling and runs until
SIGTERM or SIGINT, then shuts the worker down and exits 0.

Its own process because the agents plugin installs process-wide runner overrides:
DuraChat's worker and this one could not share a process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from datetime import timedelta

from agents import OpenAIProvider
from openai import AsyncOpenAI
from temporalio.client import Client
from temporalio.openai_agents import ModelActivityParameters, OpenAIAgentsPlugin
from temporalio.worker import Worker

from backend.bench.workflow_streams.workflow import TOPIC, StreamedChatWorkflow
from backend.encryption.payload_key import require_keys
from backend.temporal_connect import NAMESPACE, worker_encryption_plugin

log = logging.getLogger("durachat.bench.workflow_streams")

READY_LINE = json.dumps({"event": "ready"})

# Stock streaming settings: the default 100 ms publish batching is what we compare against.
MODEL_PARAMS = ModelActivityParameters(
    streaming_topic=TOPIC,
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=10),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m backend.bench.workflow_streams.worker")
    parser.add_argument("--temporal", required=True, help="Temporal frontend, HOST:PORT")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--model-base-url", required=True, help="the demo model, e.g. .../v1")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # Temporal retries model calls (the plugin's default posture); the client must not.
    openai_client = AsyncOpenAI(base_url=args.model_base_url, api_key="demo", max_retries=0)
    # The Responses API, as DuraChat's worker uses with the demo model.
    provider = OpenAIProvider(openai_client=openai_client, use_responses=True)
    plugin = OpenAIAgentsPlugin(model_params=MODEL_PARAMS, model_provider=provider)
    # Sealed like DuraChat's own, so both paths pay for encryption alike.
    client = await Client.connect(
        args.temporal,
        namespace=NAMESPACE,
        plugins=[plugin, worker_encryption_plugin(require_keys())],
    )
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[StreamedChatWorkflow],
        # Stopping should be quick, like DuraChat's worker.
        graceful_shutdown_timeout=timedelta(seconds=1),
    )
    try:
        async with worker:
            print(READY_LINE, flush=True)
            log.info("polling task queue %r on %s", args.task_queue, args.temporal)
            await stop.wait()
            log.info("stopping")
    finally:
        await openai_client.close()
    # The worker is shut down; drop the core client before the interpreter exits
    # (an open one at exit can abort it in PyGILState_Release).
    del worker, client


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run(parse_args(argv)))
    gc.collect()  # release the Temporal core client before the interpreter finalizes
    return 0


if __name__ == "__main__":
    sys.exit(main())
