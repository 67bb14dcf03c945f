"""The tool activity: runs one tool call, publishes its result live, returns the outcome.

A tool's own failure (bad arguments, a path outside the granted folder) is an
outcome with ``error`` set, shown to the model and the user; only unexpected
crashes make the activity fail and be retried by Temporal.

An output too large to travel in the workflow (claim check) goes to the
conversation store's blobs by its hash; the outcome carries its beginning, which
is all the turn's budgets let through anyway, and the hash.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from temporalio import activity

from backend.client.store import ConversationStore
from backend.local.settings import Settings, SettingsError
from backend.stream.events import ToolResult
from backend.stream.redis_stream import EventPublisher
from backend.tools.calculator import calculate
from backend.tools.clock import current_time
from backend.tools.errors import ToolError
from backend.tools.files import list_files, read_file
from backend.worker.call_context import CALL_CONTEXT, event_fields
from backend.workflows.tool_budget import MODEL_BUDGET_BYTES


class ToolInvocation(BaseModel):
    call_id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


# Outputs past this many bytes go to the store's blobs, whole; the outcome keeps what
# the model may be sent of them in one turn at most.
BLOB_THRESHOLD_BYTES = 64 * 1024


class ToolOutcome(BaseModel):
    output: str | None = None
    error: str | None = None
    output_blob: str | None = None  # the whole output's hash, when ``output`` is its start
    output_bytes: int | None = None
    attempt: int
    started_at: float
    duration_ms: float


def _dispatch(name: str, args: dict[str, Any], granted: str | None) -> str:
    if name == "calculator":
        return calculate(_required(args, "expression"))
    if name == "current_time":
        return current_time(_optional(args, "timezone", None))
    if name == "list_files":
        return list_files(granted, _optional(args, "path", ".") or ".")
    if name == "read_file":
        return read_file(granted, _required(args, "path"))
    raise ToolError(f"there is no tool named {name!r}")


def parse_arguments(text: str) -> dict[str, Any]:
    """The call's arguments as a JSON object, or a ToolError that tells the model what is wrong."""
    try:
        args = json.loads(text or "{}")
    except (ValueError, RecursionError):  # ValueError: bad JSON or an over-long integer
        raise ToolError(f"the arguments are not valid JSON: {text[:200]!r}") from None
    if not isinstance(args, dict):
        raise ToolError("the arguments are not a JSON object")
    return args


def _required(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        got = "nothing" if key not in args else f"a JSON {_json_type(value)}"
        raise ToolError(f"the argument {key!r} must be a string, got {got}")
    return value


def _optional(args: dict[str, Any], key: str, default: str | None) -> str | None:
    """A string argument that may be missing or ``null``."""
    return default if args.get(key) is None else _required(args, key)


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class ToolActivities:
    def __init__(
        self,
        publisher: EventPublisher | None,
        settings: Callable[[], Settings],
        store: ConversationStore | None,
    ) -> None:
        self._publisher = publisher
        self._settings = settings
        self._store = store

    @activity.defn(name="durachat_tool")
    async def run_tool(self, call: ToolInvocation) -> ToolOutcome:
        started = time.time()
        t0 = time.perf_counter()
        output: str | None = None
        error: str | None = None
        try:
            args = parse_arguments(call.arguments)
            granted = self._settings().granted_folder
            output = await asyncio.to_thread(_dispatch, call.name, args, granted)
        except (ToolError, OSError, SettingsError) as exc:
            error = str(exc)  # a damaged settings file: the tool says so, the turn goes on
        outcome = ToolOutcome(
            output=output,
            error=error,
            attempt=activity.info().attempt,
            started_at=started,
            duration_ms=(time.perf_counter() - t0) * 1000,
        )
        if output is not None:
            await self._claim_check(outcome, output)
        ctx = CALL_CONTEXT.get()
        if ctx is not None and self._publisher is not None:
            self._publisher.publish(
                ToolResult(
                    **event_fields(ctx),
                    call_id=call.call_id,
                    name=call.name,
                    output=outcome.output,
                    error=error,
                    duration_ms=outcome.duration_ms,
                )
            )
            await self._publisher.flush()
        return outcome

    async def _claim_check(self, outcome: ToolOutcome, output: str) -> None:
        data = output.encode("utf-8", "surrogatepass")
        if len(data) <= BLOB_THRESHOLD_BYTES or self._store is None:
            return
        outcome.output_blob = await asyncio.to_thread(self._store.put_blob, data)
        outcome.output_bytes = len(data)
        outcome.output = data[:MODEL_BUDGET_BYTES].decode("utf-8", "ignore")
