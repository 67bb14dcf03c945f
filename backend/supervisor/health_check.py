"""The end-to-end check behind "ready": a Health workflow started and completed.

Its own module because it imports temporalio (about 0.3 s): the supervisor
imports it only after its children are spawned, so that cost overlaps their
start instead of delaying it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from backend.temporal_connect import TASK_QUEUE, wait_until_serving
from backend.workflows.health import HealthWorkflow

log = logging.getLogger(__name__)

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


async def reencrypt_legacy_runs(client: Client, encrypted_since: float) -> int:
    """Ask every conversation run begun before the encryption key existed (so written in
    the clear) to continue as a new, encrypted run; how many were asked.

    Such a run still accepts unencrypted signals, for its own history's sake, until
    then (backend/workflows/trusted_input.py).
    """
    since = datetime.fromtimestamp(encrypted_since, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    query = (
        f"WorkflowType = 'Conversation' AND ExecutionStatus = 'Running' AND StartTime < '{since}'"
    )
    asked = 0
    try:
        async for wf in client.list_workflows(query):
            try:
                await client.get_workflow_handle(wf.id, run_id=wf.run_id).signal("reencrypt", None)
                asked += 1
            except RPCError as exc:  # ended meanwhile, say: it is asked at the next start
                log.warning("could not ask %s to re-encrypt: %s", wf.id, exc.message)
    except RPCError as exc:
        log.warning("could not list conversations to re-encrypt: %s", exc.message)
    return asked
