"""The demo model's HTTP app: OpenAI-compatible endpoints over Starlette.

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/responses`` (both streamed or not)
and ``GET /v1/models``. Every reply comes from :func:`~backend.demo_model.script.plan_reply`;
this module only adds authentication, faults, pacing and the HTTP framing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from backend.demo_model.chat_wire import (
    ChatIds,
    UsageMode,
    chat_completion_body,
    chat_stream_frames,
)
from backend.demo_model.conversation import request_fingerprint, tool_names
from backend.demo_model.directives import DirectiveError
from backend.demo_model.faults import HTTP_FAULTS, FaultLedger, FaultSpec, format_seconds
from backend.demo_model.responses_wire import (
    ResponseIds,
    output_items,
    response_body,
    responses_stream_frames,
    usage_body,
)
from backend.demo_model.script import ReplyPlan, plan_reply
from backend.demo_model.streaming import (
    MALFORMED_LINE,
    DropConnection,
    Frame,
    paced_bytes,
)

DEMO_MODEL_ID = "durachat-demo"
DEFAULT_TOKENS_PER_SECOND = 30.0


@dataclass(frozen=True)
class DemoModelConfig:
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND
    # A fault for every request that does not name its own.
    fault: FaultSpec | None = None
    # The bearer key every request must carry; None accepts any key or none.
    required_key: str | None = field(default=None, repr=False)


@dataclass
class _State:
    config: DemoModelConfig
    ledger: FaultLedger = field(default_factory=FaultLedger)
    # Set when the server starts shutting down, so paced and hanging streams end at once
    # instead of holding the shutdown until they finish.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


def create_app(config: DemoModelConfig) -> Starlette:
    state = _State(config)

    async def models(request: Request) -> Response:
        if denied := _check_key(request, config):
            return denied
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {
                        "id": DEMO_MODEL_ID,
                        "object": "model",
                        "created": 0,
                        "owned_by": "durachat",
                    }
                ],
            }
        )

    async def chat_completions(request: Request) -> Response:
        return await _handle(request, state, "chat")

    async def responses(request: Request) -> Response:
        return await _handle(request, state, "responses")

    app = Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
        ]
    )
    app.state.demo = state
    return app


def begin_shutdown(app: Starlette) -> None:
    """End every paced or hanging stream now; called when the server starts stopping."""
    app.state.demo.stopping.set()


async def _handle(request: Request, state: _State, api: str) -> Response:
    if denied := _check_key(request, state.config):
        return denied
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The request body is not valid JSON.", "invalid_request_error")
    if not isinstance(body, dict):
        return _error(400, "The request body must be a JSON object.", "invalid_request_error")

    if api == "chat":
        messages = body.get("messages")
        instructions = None
        if not isinstance(messages, list):
            return _error(400, "'messages' must be a list.", "invalid_request_error", "messages")
    else:
        messages = body.get("input")
        instructions = body.get("instructions")
        instructions = instructions if isinstance(instructions, str) else None
        if not isinstance(messages, str | list):
            return _error(400, "'input' must be a string or a list.", "invalid_request_error")

    try:
        plan = plan_reply(messages, tool_names(body.get("tools")), instructions=instructions)
    except DirectiveError as exc:
        return _error(400, f"Demo directive: {exc}", "invalid_request_error")

    fault = plan.fault or state.config.fault
    fingerprint = request_fingerprint(api, messages, instructions)
    if fault is not None and not state.ledger.strikes(fault, fingerprint):
        fault = None
    if fault is not None and fault.kind in HTTP_FAULTS:
        return _http_fault(fault)
    if fault is not None and fault.kind == "empty":
        plan = plan.emptied()
        fault = None

    tps = plan.tokens_per_second
    if tps is None:
        tps = state.config.tokens_per_second
    model = body.get("model") if isinstance(body.get("model"), str) else DEMO_MODEL_ID
    stream = body.get("stream") is True
    if api == "chat":
        ids = ChatIds(
            completion_id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=model
        )
        if stream:
            frames: Iterable[Frame] = chat_stream_frames(plan, ids, _usage_mode(body))
            return _sse(frames, tps, fault, state, stamped=plan.stamped)
        return _json_reply(chat_completion_body(plan, ids), fault, state)

    tool_choice = body.get("tool_choice")
    response_ids = ResponseIds(
        response_id=f"resp_{uuid.uuid4().hex}",
        created_at=int(time.time()),
        model=model,
        instructions=instructions,
        tool_choice=tool_choice if tool_choice in ("auto", "none", "required") else "auto",
    )
    if stream:
        return _sse(
            responses_stream_frames(plan, response_ids), tps, fault, state, stamped=plan.stamped
        )
    return _json_reply(_response_object(plan, response_ids), fault, state)


def _response_object(plan: ReplyPlan, ids: ResponseIds) -> dict[str, Any]:
    return response_body(
        ids, status="completed", output=output_items(ids, plan), usage=usage_body(plan)
    )


def _usage_mode(body: dict[str, Any]) -> UsageMode:
    options = body.get("stream_options")
    include = options.get("include_usage") if isinstance(options, dict) else None
    if include is True:
        return "separate"
    return "none" if include is False else "final"


def _sse(
    frames: Iterable[Frame],
    tps: float,
    fault: FaultSpec | None,
    state: _State,
    *,
    stamped: bool = False,
) -> StreamingResponse:
    body = paced_bytes(
        frames,
        tokens_per_second=tps,
        fault=fault,
        stopping=state.stopping,
        stamped=stamped,
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        # No proxy or client should hold SSE back to batch it.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _json_reply(body: dict[str, Any], fault: FaultSpec | None, state: _State) -> Response:
    """A non-streamed reply. Stream faults still apply: a drop cuts the body in half, a hang
    sends headers and nothing else, malformed sends a body that is not JSON."""
    if fault is None:
        return JSONResponse(body)
    encoded = json.dumps(body).encode()

    async def faulty() -> AsyncIterator[bytes]:
        if fault.kind == "malformed":
            yield MALFORMED_LINE
            return
        if fault.kind == "hang":
            await state.stopping.wait()
        else:
            yield encoded[: len(encoded) // 2]
        raise DropConnection(f"demo fault {fault}")

    return StreamingResponse(faulty(), media_type="application/json")


def _check_key(request: Request, config: DemoModelConfig) -> Response | None:
    if config.required_key is None:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    # compare_digest: the time taken must not hint at how much of the key was right.
    if scheme.lower() == "bearer" and hmac.compare_digest(
        key.strip().encode(), config.required_key.encode()
    ):
        return None
    # The message never repeats the key it got, so it cannot leak into a client's log.
    return _error(
        401,
        "Incorrect API key provided. The demo model was started with a required key.",
        "invalid_request_error",
        code="invalid_api_key",
    )


def _http_fault(fault: FaultSpec) -> Response:
    if fault.kind == "401":
        return _error(
            401,
            "Incorrect API key provided (injected demo fault).",
            "invalid_request_error",
            code="invalid_api_key",
        )
    if fault.kind == "429":
        response = _error(
            429,
            "Rate limit reached for the demo model (injected demo fault).",
            "requests",
            code="rate_limit_exceeded",
        )
        response.headers["Retry-After"] = format_seconds(fault.retry_after)
        return response
    return _error(
        500,
        "The server had an error while processing your request (injected demo fault).",
        "server_error",
        code="server_error",
    )


def _error(
    status: int, message: str, kind: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    """An error body shaped like OpenAI's, which the openai client turns into its errors."""
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": code}},
        status_code=status,
    )
