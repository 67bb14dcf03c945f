"""A worker as DuraChat ran before its payload codec: no encryption, no key.

``python -m tests.support.pre_codec_worker ADDRESS`` polls for conversation
workflow tasks only (no activities but the local one that sets up a turn's tools,
here with no MCP server), printing a line once it polls, until
SIGTERM. A test uses it to write a conversation's first history in the clear, the
way an earlier DuraChat did, then hands the rest to today's backend.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

from temporalio.client import Client
from temporalio.openai_agents import OpenAIAgentsPlugin
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from backend.encryption.payload_key import PayloadKey, PayloadKeys
from backend.local.settings import Settings
from backend.models.provider import DuraChatModelProvider
from backend.temporal_connect import NAMESPACE, TASK_QUEUE, wait_until_serving
from backend.tools.setup import ServerSetup
from backend.worker.interceptors import TurnContextInterceptor
from backend.worker.main import MODEL_PARAMS
from backend.worker.payload_converter import worker_payload_converter_plugin
from backend.workflows import trusted_input
from backend.workflows.conversation import ConversationWorkflow
from backend.workflows.tool_call_activities import ToolCallActivities


async def _no_servers() -> list[ServerSetup]:
    return []


async def run(address: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    trusted_input.encrypted_since = float("inf")  # no key yet: all input was plain
    await wait_until_serving(address, timeout=60, keys=PayloadKeys((PayloadKey.new(),)))
    client = await Client.connect(
        address,
        namespace=NAMESPACE,
        plugins=[
            # The provider only names the model: this worker runs no model calls, so
            # it needs neither settings nor a publisher.
            OpenAIAgentsPlugin(
                model_params=MODEL_PARAMS,
                model_provider=DuraChatModelProvider(Settings, None, None),  # type: ignore[arg-type]
            ),
            worker_payload_converter_plugin(),
        ],
    )
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[ConversationWorkflow],
        activities=[ToolCallActivities(None, None, Settings, _no_servers).tool_setup],  # type: ignore[arg-type]
        interceptors=[TurnContextInterceptor()],
        workflow_runner=UnsandboxedWorkflowRunner(),
        no_remote_activities=True,  # the model call is left for today's worker
    )
    async with worker:
        print("polling", flush=True)
        await stop.wait()
    del worker, client


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
    gc.collect()
