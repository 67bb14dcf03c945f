"""The end-to-end check behind "ready": a Health workflow started and completed.

Its own module because it imports temporalio (about 0.3 s): the supervisor
imports it only after its children are spawned, so that cost overlaps their
start instead of delaying it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle

from backend.temporal_connect import TASK_QUEUE, wait_until_serving
from backend.workflows.health import HealthWorkflow

# Long enough for a worker that imports slowly from a cold disk; the supervisor
# bounds the wait for the result separately, once the worker says it polls.
EXECUTION_TIMEOUT = timedelta(minutes=5)


async def start_health_workflow(
    temporal_address: str, timeout: float
) -> tuple[Client, WorkflowHandle]:
    """Connect once Temporal serves and start a Health workflow.

    Started before the worker polls: the task waits in the queue and completes
    the moment the worker picks it up, which takes a round trip off the start.
    """
    client = await wait_until_serving(temporal_address, timeout=timeout)
    handle = await client.start_workflow(
        HealthWorkflow.run,
        False,
        id=f"health-{uuid.uuid4()}",
        task_queue=TASK_QUEUE,
        execution_timeout=EXECUTION_TIMEOUT,
    )
    return client, handle
