"""A Model that streams from the LLM to the conversation's Redis stream and returns
the complete response to Temporal (the pattern of seed 001).

Runs inside the plugin's model activity, whose own heartbeats (every half
heartbeat timeout) are how a Stop reaches a call that is still streaming. The
first event of every attempt is ``attempt_started``; on a retry it says so, and
subscribers drop what the failed attempt had shown, so text is never duplicated.
Publishing never fails or slows the call: the returned ModelResponse, recorded
by Temporal, is the truth.

Every way a provider can fail mid-call ends as an ApplicationError whose type
``turn_errors.classify`` knows, so a failed turn says what happened in words.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
from agents import Model, ModelResponse, Usage
from temporalio.exceptions import ApplicationError

from backend.stream.events import (
    TURN_LEVEL,
    AttemptStarted,
    MessageDone,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    TurnStarted,
    _Event,
)
from backend.stream.redis_stream import EventPublisher
from backend.worker.call_context import CALL_CONTEXT, CallContext, event_fields
from backend.workflows.model_context import referenced_turn

# The store's items of finished turns, by id: (conversation id, turn ids) -> items.
TurnsContext = Callable[[str, list[str]], dict[str, list[dict[str, Any]]]]

_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
# An empty reply is retried once (often a provider hiccup); a second one in a row is
# what this prompt gets, and more attempts would only keep the user waiting.
EMPTY_REPLY_ATTEMPTS = 2
# A model silent for request_timeout_s three times in a row is not coming back soon;
# the activity's five attempts would keep the user waiting over five minutes (60 s each).
TIMEOUT_ATTEMPTS = 3
# How long the first token may wait for Redis before the stream goes on regardless
# (Redis down: the publisher holds it and the model must not wait).
FIRST_TOKEN_FLUSH_S = 0.05
# One model call's reply is recorded as one Temporal payload (2 MB at most) and is
# carried in the conversation: a call that streams more than this (text, reasoning and
# tool arguments, in characters) ends without a retry, keeping what it said. A retry
# would pay for the same runaway generation again.
MAX_REPLY_CHARS = 200_000
REPLY_TOO_LONG = "ReplyTooLong"
REPLY_TOO_SLOW = "ReplyTooSlow"


@dataclass
class _Received:
    """What one attempt has streamed so far."""

    text: list[str] = field(default_factory=list)
    deltas: int = 0  # text, reasoning or tool-argument pieces
    chars: int = 0  # in those pieces


class StreamingModel(Model):
    def __init__(
        self,
        inner: Model,
        label: str,
        endpoint: str,
        publisher: EventPublisher,
        timeout_s: float,
        max_reply_s: float,
        turns_context: TurnsContext | None = None,
    ) -> None:
        self._inner = inner
        self._turns_context = turns_context
        self._label = label
        self._endpoint = endpoint
        self._publisher = publisher
        self._timeout_s = timeout_s
        self._max_reply_s = max_reply_s

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        ctx = CALL_CONTEXT.get()
        publish = self._publisher_for(ctx)
        if ctx is not None:
            if ctx.call == 0:
                # The turn starts when its first model call does. Announced from here,
                # not by the workflow, because a local activity there would hold back
                # the workflow task that schedules this call (one round trip more
                # before the first token).
                self._publisher.publish(
                    TurnStarted(
                        **(event_fields(ctx) | {"call": TURN_LEVEL}),
                        text=_last_user_text(args[1] if len(args) > 1 else kwargs.get("input")),
                    )
                )
            publish(AttemptStarted, model=self._label, retry=ctx.attempt > 1)
        got = _Received()
        args, kwargs = await self._resolve_references(ctx, args, kwargs)
        try:
            completed = await self._stream(publish, got, *args, **kwargs)
        except (openai.APITimeoutError, httpx.TimeoutException) as exc:
            raise self._timed_out(ctx, answering=got.deltas > 0) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            # A provider's words on a rejected key may quote the key (OpenAI masks
            # most of it, a proxy may not). The plugin records this exception as the
            # cause of the activity's failure, in the workflow history and the
            # worker's log, so only the status goes on.
            raise type(exc)(
                f"Error code: {exc.status_code}", response=exc.response, body=None
            ) from None
        except (openai.APIConnectionError, httpx.TransportError) as exc:
            # Retryable; the message names the server so the user can fix a wrong URL.
            raise ApplicationError(
                f"could not reach {self._endpoint}: {exc}", type="Unreachable"
            ) from exc
        except json.JSONDecodeError as exc:
            # A stream line that is not JSON: a broken proxy or server. Retryable; what
            # the attempt had shown is dropped by subscribers when the retry starts.
            raise ApplicationError(
                f"the model's server at {self._endpoint} sent a malformed reply "
                f"(a stream line that is not JSON: {exc.msg})",
                type="MalformedReply",
            ) from exc
        if _is_empty(completed):
            # Not a silent success: a turn with no reply says so.
            raise ApplicationError(
                "the model returned an empty reply (no text and no tool call)",
                type="EmptyReply",
                non_retryable=ctx is not None and ctx.attempt >= EMPTY_REPLY_ATTEMPTS,
            )
        publish(MessageDone, text="".join(got.text))
        await self._publisher.flush()
        return ModelResponse(
            output=completed.output,
            usage=_usage(completed),
            response_id=completed.id,
        )

    def _timed_out(self, ctx: CallContext | None, answering: bool) -> ApplicationError:
        silence = f"nothing arrived for {self._timeout_s:g} s (request_timeout_s in settings)"
        what = "stopped answering mid-reply" if answering else "did not answer"
        return ApplicationError(
            f"the model {what}: {silence}",
            type="ModelTimeout",
            non_retryable=ctx is not None and ctx.attempt >= TIMEOUT_ATTEMPTS,
        )

    async def _resolve_references(
        self, ctx: CallContext | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The call's input with each reference to an earlier turn replaced by that
        turn's items from the conversation store (the claim check of
        backend/workflows/model_context.py)."""
        given = args[1] if len(args) > 1 else kwargs.get("input")
        if ctx is None or self._turns_context is None or not isinstance(given, list):
            return args, kwargs
        refs = [referenced_turn(item) for item in given]
        wanted = [ref for ref in refs if ref]
        if not wanted:
            return args, kwargs
        found = await asyncio.to_thread(self._turns_context, ctx.conversation_id, wanted)
        if missing := [ref for ref in wanted if ref not in found]:
            raise ApplicationError(
                f"the conversation store does not have the earlier turn {missing[0]} the "
                "model was to be sent (was the conversation deleted meanwhile?)",
                type="ContextMissing",
                non_retryable=True,
            )
        resolved: list[Any] = []
        for item, ref in zip(given, refs, strict=True):
            resolved.extend(found[ref] if ref else [item])
        if len(args) > 1:
            return (args[0], resolved, *args[2:]), kwargs
        return args, {**kwargs, "input": resolved}

    async def _stream(self, publish: Any, got: _Received, *args: Any, **kwargs: Any) -> Any:
        completed = None
        deadline = time.monotonic() + self._max_reply_s
        async for event in self._inner.stream_response(*args, **kwargs):
            kind = event.type
            if kind == "response.output_text.delta":
                got.text.append(event.delta)
                publish(TextDelta, text=event.delta)
            elif kind in _REASONING_DELTAS:
                publish(ReasoningDelta, text=event.delta)
            elif kind == "response.output_item.done" and event.item.type == "function_call":
                item = event.item
                publish(ToolCall, call_id=item.call_id, name=item.name, arguments=item.arguments)
            elif kind == "response.completed":
                completed = event.response
            if kind.endswith(".delta"):
                got.deltas += 1
                got.chars += len(event.delta)
                self._check_limits(got, deadline)
                if got.deltas == 1:
                    # The first token goes out before the rest of a burst is parsed:
                    # it is what the user waits for (one Redis round trip, once).
                    await self._publisher.flush(timeout=FIRST_TOKEN_FLUSH_S)
                else:
                    await self._publisher.hand_over()
        if completed is None:
            raise ApplicationError(
                f"the stream from {self._endpoint} ended before the reply was complete",
                type="IncompleteStream",
            )
        return completed

    def _check_limits(self, got: _Received, deadline: float) -> None:
        """End a runaway reply, keeping what it said (the error's details carry it)."""
        if got.chars > MAX_REPLY_CHARS:
            why = f"the reply passed {MAX_REPLY_CHARS:,} characters, so it was cut off there"
            kind = REPLY_TOO_LONG
        elif time.monotonic() > deadline:
            why = (
                f"the reply was still streaming after {self._max_reply_s:g} s "
                "(max_reply_s in settings), so it was cut off there"
            )
            kind = REPLY_TOO_SLOW
        else:
            return
        raise ApplicationError(why, "".join(got.text), type=kind, non_retryable=True)

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


def _last_user_text(model_input: Any) -> str:
    """The user's message that began the turn: the last user item of the model input."""
    if isinstance(model_input, str):
        return model_input
    for item in reversed(model_input or []):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            return content if isinstance(content, str) else ""
    return ""


def _is_empty(response: Any) -> bool:
    """True when the reply holds nothing for the user: no text, no refusal, no tool call
    (reasoning alone is not an answer)."""
    for item in response.output or []:
        kind = getattr(item, "type", None)
        if kind == "reasoning":
            continue
        if kind != "message":
            return False  # a function call or another action
        for part in item.content or []:
            said = getattr(part, "text", None) or getattr(part, "refusal", None)
            if said and said.strip():
                return False
    return True


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
