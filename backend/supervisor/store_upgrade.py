"""Bringing conversations from before the conversation store into it, once.

Until the store, each conversation lived only in its workflow's state. At the
first start of a DuraChat that has the store, the supervisor reads every
conversation's history from its workflow runs (a query each) and writes it to
the store, then asks each run to continue as new: the new run uses the store.
A marker in the store says it was done; a run that could not be read is logged
and tried again at the next start (writing twice changes nothing).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError

from backend.client.store import ConversationStore
from backend.client.store_types import (
    WORKFLOWS_IMPORTED,
    ExportedConversation,
    ExportedTurn,
)
from backend.workflows.conversation_types import ConversationState, ConversationView

log = logging.getLogger(__name__)

# Runs that may hold a conversation: running, or ended from outside (terminated by a
# limit or by hand); a completed run held input that was not ours, and one continued
# as new has a successor.
_HOLDING = (
    "WorkflowType = 'Conversation' AND ExecutionStatus != 'Completed' "
    "AND ExecutionStatus != 'ContinuedAsNew'"
)
QUERY_TIMEOUT = timedelta(seconds=20)


def needs_import(store: ConversationStore) -> bool:
    return store.get_meta(WORKFLOWS_IMPORTED) is None


async def import_from_workflows(client: Client, store: ConversationStore) -> int:
    """Write every conversation the workflows hold to the store; how many were
    written. Sets the marker only when every one was read."""
    newest: dict[str, tuple[float, str, bool]] = {}  # id -> started, run id, running
    async for wf in client.list_workflows(_HOLDING):
        started = wf.start_time.timestamp() if wf.start_time else 0.0
        if wf.id not in newest or started > newest[wf.id][0]:
            newest[wf.id] = (
                started,
                wf.run_id,
                wf.status == WorkflowExecutionStatus.RUNNING,
            )
    written, failed = 0, 0
    for conversation_id, (_started, run_id, running) in newest.items():
        handle = client.get_workflow_handle(conversation_id, run_id=run_id)
        try:
            view = await handle.query(
                "history", result_type=ConversationView, rpc_timeout=QUERY_TIMEOUT
            )
        except (WorkflowQueryFailedError, RPCError) as exc:
            log.warning("could not read %s to move it to the store: %s", conversation_id, exc)
            failed += 1
            continue
        custom = await _title_is_custom(handle)
        await asyncio.to_thread(store.import_conversation, _as_export(view, custom))
        written += 1
        if running:
            try:
                await handle.signal("refresh", None)
            except RPCError as exc:  # ended meanwhile: its next run starts from the store
                log.warning("could not ask %s to continue as new: %s", conversation_id, exc)
    if not failed:
        store.set_meta(WORKFLOWS_IMPORTED, "1")
    log.info("moved %d conversation(s) to the store (%d could not be read)", written, failed)
    return written


async def _title_is_custom(handle: WorkflowHandle) -> bool:
    """Whether the user named the conversation (the ``history`` view does not say)."""
    try:
        state = await handle.query(
            "state", result_type=ConversationState, rpc_timeout=QUERY_TIMEOUT
        )
    except (WorkflowQueryFailedError, RPCError):
        return False
    return state is not None and state.title_is_custom


def _as_export(view: ConversationView, title_is_custom: bool) -> ExportedConversation:
    """A workflow's history in the store's import shape. Turns still waiting keep
    their status: the run that answers them records them when they end."""
    return ExportedConversation(
        conversation_id=view.conversation_id,
        title=view.title,
        title_is_custom=title_is_custom,
        created_at=view.created_at,
        updated_at=view.updated_at,
        turns=[ExportedTurn.model_validate(t.model_dump()) for t in view.turns],
    )
