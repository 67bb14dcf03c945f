"""Carrying the conversation and turn from the workflow into its activities (seed 001).

Workflow side: every activity a turn schedules gets headers with the
conversation id and turn id; model calls also get their index within the turn.
Activity side: those headers become ``CALL_CONTEXT`` for the attempt, reset after.
Model calls whose input would pass Temporal's payload limit are refused here,
before they are scheduled; and a turn the user stopped schedules nothing more.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from backend.worker.call_context import (
    CALL_CONTEXT,
    HEADER_CALL,
    HEADER_CONVERSATION,
    HEADER_TURN,
    CallContext,
)
from backend.workflows.turn_scope import CURRENT_TURN, RUNNING_AGENT

MODEL_ACTIVITY_PREFIX = "invoke_model_activity"
_CONVERTER = PayloadConverter.default
# A model call's input travels as one Temporal payload, refused over 2 MB: past this
# estimate the call is not scheduled at all (the turn fails saying why) rather than
# fail the workflow task on every retry.
MAX_MODEL_INPUT_BYTES = 1_800_000


def model_input_size(args: Any) -> int:
    """Bytes of the conversation items a model call would send (the part that grows)."""
    items = args[0].get("input") if args and isinstance(args[0], dict) else None
    if isinstance(items, str):
        return len(items.encode("utf-8", "surrogatepass"))
    return len(json.dumps(items, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass"))


# Histories from before this check scheduled such calls; they replay as they ran.
MODEL_INPUT_CHECK = "model-input-check"


def _check_model_input(activity_name: str, args: Any) -> None:
    if not activity_name.startswith(MODEL_ACTIVITY_PREFIX):
        return
    if not workflow.patched(MODEL_INPUT_CHECK):
        return
    if problem := oversized_model_input(args):
        raise problem


def oversized_model_input(args: Any) -> ApplicationError | None:
    """The error that ends the turn when a model call's input would not fit, else None."""
    size = model_input_size(args)
    if size <= MAX_MODEL_INPUT_BYTES:
        return None
    return ApplicationError(
        f"this conversation is too large to send to the model ({size / 1e6:.1f} MB; "
        f"the limit is {MAX_MODEL_INPUT_BYTES / 1e6:.1f} MB): start a new conversation",
        type="ConversationTooLarge",
        non_retryable=True,
    )


def _with_turn_headers(activity_name: str, headers: Any) -> dict[str, Payload]:
    scope = CURRENT_TURN.get()
    if scope is None:
        return dict(headers)
    call = -1
    if activity_name.startswith(MODEL_ACTIVITY_PREFIX):
        call = scope.model_calls
        scope.model_calls += 1
    return {
        **headers,
        HEADER_CONVERSATION: _CONVERTER.to_payload(scope.conversation_id),
        HEADER_TURN: _CONVERTER.to_payload(scope.turn_id),
        HEADER_CALL: _CONVERTER.to_payload(call),
    }


def _check_not_stopping() -> None:
    scope = RUNNING_AGENT.get()
    if scope is not None and scope.stopping:
        raise asyncio.CancelledError("the user stopped this turn")


class _TurnHeadersOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        _check_not_stopping()
        _check_model_input(input.activity, input.args)
        input.headers = _with_turn_headers(input.activity, input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        _check_not_stopping()
        input.headers = _with_turn_headers(input.activity, input.headers)
        return super().start_local_activity(input)


class _TurnHeadersInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_TurnHeadersOutbound(outbound))


class _CallContextInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        headers = input.headers
        if HEADER_TURN not in headers:
            return await super().execute_activity(input)
        context = CallContext(
            conversation_id=_CONVERTER.from_payload(headers[HEADER_CONVERSATION], str),
            turn_id=_CONVERTER.from_payload(headers[HEADER_TURN], str),
            call=_CONVERTER.from_payload(headers[HEADER_CALL], int),
            attempt=activity.info().attempt,
        )
        token = CALL_CONTEXT.set(context)
        try:
            return await super().execute_activity(input)
        finally:
            CALL_CONTEXT.reset(token)


class TurnContextInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CallContextInbound(super().intercept_activity(next))

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _TurnHeadersInbound
