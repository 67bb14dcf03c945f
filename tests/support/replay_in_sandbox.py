"""Replay every workflow history of a backend inside Temporal's sandbox.

``python -m tests.support.replay_in_sandbox ADDRESS`` prints the replayed
workflow ids as one JSON list and exits 0; a history that does not replay (the
workflow code is nondeterministic, or calls something the sandbox restricts)
ends it with exit status 1 and the error on stderr. A process of its own, so
the test process never holds a Temporal worker (a replayer is one).
"""

from __future__ import annotations

import asyncio
import json
import sys

from temporalio.openai_agents import OpenAIAgentsPlugin
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from backend.encryption.payload_key import require_keys
from backend.temporal_connect import connect, worker_encryption_plugin
from backend.worker.interceptors import TurnContextInterceptor
from backend.worker.main import MODEL_PARAMS
from backend.workflows import trusted_input
from backend.workflows.conversation import ConversationWorkflow
from backend.workflows.health import HealthWorkflow


async def replay_all(address: str) -> list[str]:
    keys = require_keys()
    # As the worker does: whether plain input is history from before the key.
    trusted_input.encrypted_since = keys.encrypted_since
    client = await connect(address, keys)
    replayer = Replayer(
        workflows=[ConversationWorkflow, HealthWorkflow],
        interceptors=[TurnContextInterceptor()],
        plugins=[OpenAIAgentsPlugin(model_params=MODEL_PARAMS), worker_encryption_plugin(keys)],
        # The agents SDK imports OpenTelemetry lazily, from inside workflow code.
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("opentelemetry")
        ),
    )
    replayed = []
    async for w in client.list_workflows():
        history = await client.get_workflow_handle(w.id, run_id=w.run_id).fetch_history()
        await replayer.replay_workflow(history)  # raises on any nondeterminism
        replayed.append(w.id)
    return replayed


def main() -> int:
    try:
        replayed = asyncio.run(replay_all(sys.argv[1]))
    except Exception as exc:  # the test shows this text when a history does not replay
        print(f"replay failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(replayed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
