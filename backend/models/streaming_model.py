"""A Model that streams from the LLM to the conversation's Redis stream and returns
the complete response to Temporal (the pattern of seed 001).

Runs inside the plugin's model activity, whose own heartbeats (every half
heartbeat timeout) are how a Stop reaches a call that is still streaming. The
first event of every attempt is ``attempt_started``; on a retry it says so, and
subscribers drop what the failed attempt had shown, so text is never duplicated.
Publishing never fails or slows the call: the returned ModelResponse, recorded
by Temporal, is the truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
from agents import Model, ModelResponse, Usage
from temporalio.exceptions import ApplicationError

from backend.stream.events import (
    AttemptStarted,
    MessageDone,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    _Event,
)
from backend.stream.redis_stream import EventPublisher
from backend.worker.call_context import CALL_CONTEXT, CallContext, event_fields

_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)


class StreamingModel(Model):
    def __init__(self, inner: Model, label: str, endpoint: str, publisher: EventPublisher) -> None:
        self._inner = inner
        self._label = label
        self._endpoint = endpoint
        self._publisher = publisher

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        ctx = CALL_CONTEXT.get()
        publish = self._publisher_for(ctx)
        if ctx is not None:
            publish(AttemptStarted, model=self._label, retry=ctx.attempt > 1)
        text_parts: list[str] = []
        try:
            completed = await self._stream(publish, text_parts, *args, **kwargs)
        except (openai.APIConnectionError, httpx.TransportError) as exc:
            if isinstance(exc, openai.APITimeoutError):
                raise  # the plugin and the turn's error say "did not answer in time"
            # Retryable; the message names the server so the user can fix a wrong URL.
            raise ApplicationError(
                f"could not reach {self._endpoint}: {exc}", type="Unreachable"
            ) from exc
        publish(MessageDone, text="".join(text_parts))
        await self._publisher.flush()
        return ModelResponse(
            output=completed.output,
            usage=_usage(completed),
            response_id=completed.id,
        )

    async def _stream(self, publish: Any, text_parts: list[str], *args: Any, **kwargs: Any) -> Any:
        completed = None
        async for event in self._inner.stream_response(*args, **kwargs):
            kind = event.type
            if kind == "response.output_text.delta":
                text_parts.append(event.delta)
                publish(TextDelta, text=event.delta)
            elif kind in _REASONING_DELTAS:
                publish(ReasoningDelta, text=event.delta)
            elif kind == "response.output_item.done" and event.item.type == "function_call":
                item = event.item
                publish(ToolCall, call_id=item.call_id, name=item.name, arguments=item.arguments)
            elif kind == "response.completed":
                completed = event.response
        if completed is None:
            raise ApplicationError(
                f"the stream from {self._endpoint} ended before the reply was complete",
                type="IncompleteStream",
            )
        return completed

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._inner.stream_response(*args, **kwargs)

    def _publisher_for(self, ctx: CallContext | None):  # type: ignore[no-untyped-def]
        if ctx is None:  # not a conversation's model call (e.g. "Test connection")
            return lambda *_a, **_k: None

        def publish(cls: type[_Event], **fields: Any) -> None:
            self._publisher.publish(cls(**event_fields(ctx), **fields))

        return publish

    async def close(self) -> None:
        await self._inner.close()


def _usage(response: Any) -> Usage:
    u = getattr(response, "usage", None)
    if u is None:
        return Usage(requests=1)
    return Usage(
        requests=1,
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        total_tokens=u.total_tokens or 0,
    )
