"""The OpenAI client the worker gives the agents SDK, minus one per-call cost.

Before every request the openai package walks the whole request body against
its TypedDict annotations (``async_maybe_transform``) to apply aliases and
formats. For the conversation so far (the Responses API's ``input``, Chat
Completions' ``messages``) that walk costs about 0.45 ms per item on this
machine: a 40-item conversation paid 18 ms before each model call, growing with
every turn. The items the worker sends are plain JSON already (they arrive
through Temporal's JSON payloads), so the walk changes nothing; they go out
through ``extra_body`` instead, which the client merges into the JSON as it is.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from openai import AsyncOpenAI, omit
from openai.resources.chat import AsyncChat, AsyncCompletions
from openai.resources.responses import AsyncResponses


def _as_is(name: str, value: Any, extra_body: Any) -> tuple[Any, Any]:
    """Move a list argument into ``extra_body``; anything else stays where it is."""
    if isinstance(value, list):
        return omit, {**(extra_body or {}), name: value}
    return value, extra_body


class _Responses(AsyncResponses):
    async def create(  # type: ignore[override]
        self, *, input: Any = omit, extra_body: Any = None, **kwargs: Any
    ) -> Any:
        input, extra_body = _as_is("input", input, extra_body)
        return await super().create(input=input, extra_body=extra_body, **kwargs)


class _Completions(AsyncCompletions):
    async def create(  # type: ignore[override]
        self, *, messages: Any, extra_body: Any = None, **kwargs: Any
    ) -> Any:
        messages, extra_body = _as_is("messages", messages, extra_body)
        return await super().create(messages=messages, extra_body=extra_body, **kwargs)


class _Chat(AsyncChat):
    @cached_property
    def completions(self) -> AsyncCompletions:
        return _Completions(self._client)


class WorkerOpenAI(AsyncOpenAI):
    """AsyncOpenAI that sends the conversation untransformed, through
    ``with_streaming_response`` and ``with_options`` copies too."""

    @cached_property
    def responses(self) -> AsyncResponses:  # type: ignore[override]
        return _Responses(self)

    @cached_property
    def chat(self) -> AsyncChat:  # type: ignore[override]
        return _Chat(self)
