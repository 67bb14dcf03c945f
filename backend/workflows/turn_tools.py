"""The conversation workflow's tools: built-in and MCP, each under its policy, with a
durable wait for the user's approval where the policy says ``ask``.

At each turn's start (``setup``) a local activity says which MCP servers are
ready and what the user's policies are; a server's tools are listed (the
plugin's list activity) once per run and again when its configuration changes.
Denied tools are not offered. A call under ``ask`` notes itself in the store and
on the live stream, then waits, with no time limit, for a ``decide`` update that
names it: the wait is part of the workflow, so it outlives the window, the
worker and the machine; Stop cancels it. An MCP call runs as the plugin's call
activity on the MCP task queue, retried after an ambiguous failure only when
the tool only reads or says it is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, TimeoutType

with workflow.unsafe.imports_passed_through():
    from agents import FunctionTool
    from agents.tool_context import ToolContext
    from temporalio.openai_agents.workflow import temporal_mcp_server

    from backend.stream.events import ToolResult
    from backend.temporal_connect import MCP_TASK_QUEUE
    from backend.tools.activities import (
        ToolActivities,
        ToolInvocation,
        ToolOutcome,
        parse_arguments,
    )
    from backend.tools.catalog import TOOLS
    from backend.tools.errors import ToolError
    from backend.tools.offer import McpTool, OfferedTool, offer
    from backend.tools.policy import Policy
    from backend.tools.setup import ServerSetup, ToolSetup
    from backend.workflows.conversation_types import (
        ApprovalDecision,
        PendingApproval,
        ToolCallRecord,
        Turn,
    )
    from backend.workflows.tool_budget import ToolOutputBudget, preview
    from backend.workflows.tool_call_activities import SettledApproval, ToolCallActivities
    from backend.workflows.turn_activities import TurnActivities

LOCAL = timedelta(seconds=10)
# Setup waits for MCP servers being checked (at start-up, or after mcp.json changed).
SETUP = timedelta(seconds=60)
BUILTIN_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
# Listing a server's tools only reads: tried twice, then the turn goes on without them.
LIST_RETRY = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=200))
# Beyond a call's own limit (the server's ``timeout``), time to start the server.
START_ALLOWANCE = timedelta(seconds=30)
# The MCP worker beats every second while a call runs (backend/mcp/heartbeats.py):
# silence this long means the worker died, and the call ends (or is tried again).
MCP_HEARTBEAT = timedelta(seconds=5)
# How long an MCP call may wait for the worker's MCP side (it starts over when
# mcp.json changes) before it fails.
MCP_PICKUP = timedelta(minutes=2)


@dataclass
class TurnContext:
    """What a tool call needs of the workflow's running turn."""

    conversation_id: str
    turn: Turn
    budget: ToolOutputBudget


class TurnTools:
    def __init__(self, running: Callable[[], TurnContext | None]) -> None:
        self._running = running
        self._listed: dict[str, tuple[str, list[McpTool]]] = {}  # server: (config hash, tools)
        self._servers: dict[str, ServerSetup] = {}
        self._pending: dict[str, PendingApproval] = {}
        self._decisions: dict[str, ApprovalDecision] = {}
        self._always: set[str] = set()  # allowed "always" during this run
        self._key: tuple[ToolSetup, tuple[str, ...]] | None = None
        self._tools: list[FunctionTool] = []

    # -- the tool list -------------------------------------------------------------------

    async def setup(self, given: ToolSetup | None) -> list[FunctionTool]:
        """The tools to offer in this turn (the same objects while nothing changed).
        ``given``: what the message said; None asks the worker (a local activity)."""
        setup: ToolSetup = given or await workflow.execute_local_activity_method(
            ToolCallActivities.tool_setup, start_to_close_timeout=SETUP
        )
        self._servers = {s.name: s for s in setup.servers}
        listed: dict[str, list[McpTool]] = {}
        for server in setup.servers:
            tools = await self._server_tools(server)
            if tools is not None:
                listed[server.name] = tools
        key = (setup, tuple(self._listed[name][0] for name in listed))
        if key != self._key:
            self._key = key
            offered = [t for t in offer(listed, setup.policies) if t.policy != "deny"]
            self._tools = [self._function_tool(t) for t in offered]
        return self._tools

    async def _server_tools(self, server: ServerSetup) -> list[McpTool] | None:
        known = self._listed.get(server.name)
        if known is not None and known[0] == server.config_hash:
            return known[1]
        proxy = temporal_mcp_server(
            server.name,
            activity_config=self._activity(server, LIST_RETRY, f"{server.name}: list tools"),
            cache_tools_list=False,
        )
        try:
            tools = [McpTool.from_mcp(t) for t in await proxy.list_tools()]
        except ActivityError as exc:
            workflow.logger.warning(
                "MCP server %s: its tools could not be listed, the turn goes on without them: %s",
                server.name,
                _cause(exc),
            )
            return None
        self._listed[server.name] = (server.config_hash, tools)
        return tools

    def _activity(self, server: ServerSetup, retry: RetryPolicy, summary: str) -> Any:
        return {
            "task_queue": MCP_TASK_QUEUE,
            "schedule_to_start_timeout": MCP_PICKUP,
            "start_to_close_timeout": timedelta(seconds=server.timeout_s) + START_ALLOWANCE,
            "heartbeat_timeout": MCP_HEARTBEAT,
            "retry_policy": retry,
            "summary": summary[:200],
        }

    def builtin_tools(self) -> list[FunctionTool]:
        """The built-in tools, each allowed: what turns from before MCP tools and
        policies were offered (they replay as they ran: the same activity, the same
        options)."""
        allowed: dict[str, Policy] = {spec.name: "allow" for spec in TOOLS}
        return [self._function_tool(t) for t in offer({}, allowed)]

    # -- approvals -----------------------------------------------------------------------

    def check_decision(self, decision: ApprovalDecision) -> None:
        """The ``decide`` update's validator: it must name a call that waits."""
        if decision.call_id not in self._pending or decision.call_id in self._decisions:
            raise ApplicationError(
                f"no tool call {decision.call_id} waits for approval in this conversation",
                type="NotPending",
                non_retryable=True,
            )

    def decide(self, decision: ApprovalDecision) -> None:
        self._decisions[decision.call_id] = decision

    def pending(self) -> list[PendingApproval]:
        return list(self._pending.values())

    async def _ask(self, ctx: TurnContext, record: ToolCallRecord, tool: OfferedTool) -> bool:
        """Wait for the user's decision on this call; True when allowed."""
        call_id = record.call_id
        pending = PendingApproval(
            conversation_id=ctx.conversation_id,
            turn_id=ctx.turn.turn_id,
            call_id=call_id,
            tool=tool.name,
            server=None if tool.builtin else tool.source,
            arguments=record.arguments,
            requested_at=workflow.now().timestamp(),
        )
        record.status = "waiting"
        self._pending[call_id] = pending
        try:
            await workflow.execute_local_activity_method(
                ToolCallActivities.request_approval, pending, start_to_close_timeout=LOCAL
            )
            await workflow.wait_condition(lambda: call_id in self._decisions)
        finally:
            self._pending.pop(call_id, None)
        decision = self._decisions.pop(call_id)
        if decision.allow and decision.always:
            self._always.add(tool.name)
        await workflow.execute_local_activity_method(
            ToolCallActivities.settle_approval,
            SettledApproval(
                conversation_id=ctx.conversation_id,
                turn_id=ctx.turn.turn_id,
                call_id=call_id,
                allowed=decision.allow,
                reason=decision.reason,
            ),
            start_to_close_timeout=LOCAL,
        )
        if not decision.allow:
            reason = " ".join((decision.reason or "").split())
            record.status = "denied"
            record.error = "denied by the user" + (f": {reason}" if reason else "")
            record.ended_at = workflow.now().timestamp()
        else:
            record.status = "running"
        return decision.allow

    # -- one call ------------------------------------------------------------------------

    def _function_tool(self, tool: OfferedTool) -> FunctionTool:
        async def invoke(tool_ctx: ToolContext[Any], arguments: str) -> str:
            ctx = self._running()
            if ctx is None:  # a bug: tools run only inside a turn's agent run
                raise RuntimeError(f"tool {tool.name} was called outside a turn")
            record = ToolCallRecord(
                call_id=tool_ctx.tool_call_id,
                name=tool.name,
                arguments=arguments,
                started_at=workflow.now().timestamp(),
                server=None if tool.builtin else tool.source,
            )
            ctx.turn.tool_calls.append(record)
            if tool.policy == "ask" and tool.name not in self._always:
                if not await self._ask(ctx, record, tool):
                    said = f"The user denied this call of {tool.name}."
                    reason = record.error.partition(": ")[2] if record.error else ""
                    if reason:
                        said += f" Their reason: {reason}"
                    return said + " Do not call it again unless the user asks for it."
                record.started_at = workflow.now().timestamp()
            if tool.builtin:
                outcome = await self._run_builtin(tool, record)
            else:
                outcome = await self._run_mcp(ctx, tool, record)
            return take_outcome(record, outcome, ctx.budget)

        return FunctionTool(
            name=tool.name,
            description=tool.description,
            params_json_schema=tool.parameters,
            on_invoke_tool=invoke,
            strict_json_schema=False,
        )

    async def _run_builtin(self, tool: OfferedTool, record: ToolCallRecord) -> ToolOutcome:
        return await workflow.execute_activity_method(
            ToolActivities.run_tool,
            ToolInvocation(
                call_id=record.call_id, name=tool.remote_name, arguments=record.arguments
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=BUILTIN_RETRY,
            summary=tool.name,
        )

    async def _run_mcp(
        self, ctx: TurnContext, tool: OfferedTool, record: ToolCallRecord
    ) -> ToolOutcome:
        started = workflow.now()
        output: str | None = None
        error: str | None = None
        server = self._servers.get(tool.source)
        try:
            args = parse_arguments(record.arguments)
            if server is None:
                raise ToolError(f"the MCP server {tool.source} is no longer configured")
            retry = RetryPolicy(
                maximum_attempts=3 if tool.retry else 1,
                initial_interval=timedelta(milliseconds=200),
            )
            proxy = temporal_mcp_server(
                tool.source,
                activity_config=self._activity(server, retry, f"{tool.source}: {tool.remote_name}"),
                cache_tools_list=False,
            )
            result = await proxy.call_tool(tool.remote_name, args)
            text = _result_text(result)
            if result.is_error:
                error = text or "the tool reported an error"
            else:
                output = text
        except ToolError as exc:
            error = str(exc)
        except ActivityError as exc:
            error = _mcp_failure(tool, exc)
        duration_ms = (workflow.now() - started).total_seconds() * 1000
        await workflow.execute_local_activity_method(
            TurnActivities.publish_turn_event,
            ToolResult(
                conversation_id=ctx.conversation_id,
                turn_id=ctx.turn.turn_id,
                call_id=record.call_id,
                name=tool.name,
                output=output,
                error=error,
                duration_ms=duration_ms,
                ts=0,
            ),
            start_to_close_timeout=LOCAL,
        )
        return ToolOutcome(
            output=output,
            error=error,
            attempt=1,
            started_at=started.timestamp(),
            duration_ms=duration_ms,
        )


def take_outcome(record: ToolCallRecord, outcome: ToolOutcome, budget: ToolOutputBudget) -> str:
    """Fill the call's record from its outcome; what the model is told."""
    if outcome.output_blob and outcome.output and outcome.output_bytes:
        # The store holds it whole: the record (and the state) keeps its start.
        record.output = preview(outcome.output, outcome.output_bytes)
        record.output_blob, record.output_bytes = outcome.output_blob, outcome.output_bytes
    elif outcome.output:
        record.output = budget.for_record(outcome.output)
    else:
        record.output = outcome.output
    record.error = outcome.error
    record.attempts = outcome.attempt
    record.duration_ms = outcome.duration_ms
    record.ended_at = workflow.now().timestamp()
    record.status = "error" if outcome.error else "done"
    said = (outcome.output or "") if outcome.error is None else f"Error: {outcome.error}"
    return budget.for_model(said)


def _result_text(result: Any) -> str:
    """An MCP tool result as text for the model: its text parts, else its structured
    content as JSON; other parts (images, resources) by their kind."""
    parts: list[str] = []
    for part in result.content or []:
        kind = getattr(part, "type", "")
        if kind == "text":
            parts.append(part.text)
        else:
            parts.append(f"[{kind or 'content'} part not shown]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _mcp_failure(tool: OfferedTool, exc: ActivityError) -> str:
    """One line on why an MCP call failed, and whether it was tried again."""
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    if isinstance(root, TimeoutError) and root.type == TimeoutType.HEARTBEAT:
        what = "stopped during the call (DuraChat's worker stopped)"
    elif isinstance(root, TimeoutError) or "timed out" in str(root):
        what = "did not answer in time"
    elif "Connection closed" in str(root):
        what = "stopped during the call"
    else:
        what = f"failed: {_cause(exc)}"
    note = (
        ""
        if tool.retry
        else " (not tried again: the tool may change things, and may have done so already)"
    )
    return f"the MCP server {tool.source} {what}{note}"
