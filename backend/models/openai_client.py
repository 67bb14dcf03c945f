"""The OpenAI client the worker gives the agents SDK, minus two costs of the stock one.

Before every request the openai package walks the whole request body against
its TypedDict annotations (``async_maybe_transform``) to apply aliases and
formats. For the conversation so far (the Responses API's ``input``, Chat
Completions' ``messages``) that walk costs about 0.45 ms per item on this
machine: a 40-item conversation paid 18 ms before each model call, growing with
every turn; the tools' schemas and the other settings add about 0.9 ms more.
What the worker sends is plain JSON already (the items arrive through Temporal's
JSON payloads, the rest comes from the agents SDK as dicts and lists), so the
walk changes nothing (a test checks that a server receives the stock client's
JSON); it goes out through ``extra_body`` instead, which the client merges into
the JSON as it is.

Every streamed Responses event is parsed against the union of all event types:
pydantic tries the variants in turn, about 40 us an event, which is most of the
worker's time per token. The event's ``type`` names its class, so it is
validated against that class alone (about 1 us), with the same result.
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import Any, get_args

import pydantic
from openai import AsyncOpenAI, omit
from openai.resources.chat import AsyncChat, AsyncCompletions
from openai.resources.responses import AsyncResponses
from openai.types.responses import ResponseStreamEvent

# Arguments the client reads itself, or that are not part of the JSON body.
_CLIENT_ARGUMENTS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "stream"})


def _as_is(kwargs: dict[str, Any], required: str) -> dict[str, Any]:
    """Every list or dict argument moved into ``extra_body``, which the client sends
    as it is; ``required`` (the conversation) is left omitted in its place."""
    moved = {
        name: value
        for name, value in kwargs.items()
        if name not in _CLIENT_ARGUMENTS and isinstance(value, list | dict)
    }
    if not moved:
        return kwargs
    rest = {name: value for name, value in kwargs.items() if name not in moved}
    # The caller's extra_body wins over named arguments, as in the stock client.
    rest["extra_body"] = {**moved, **(kwargs.get("extra_body") or {})}
    rest.setdefault(required, omit)
    return rest


class _Responses(AsyncResponses):
    async def create(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return await super().create(**_as_is(kwargs, "input"))


class _Completions(AsyncCompletions):
    async def create(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return await super().create(**_as_is(kwargs, "messages"))


class _Chat(AsyncChat):
    @cached_property
    def completions(self) -> AsyncCompletions:
        return _Completions(self._client)


@cache
def _stream_event_classes() -> dict[str, type[pydantic.BaseModel]]:
    """Each Responses stream event's class, by its ``type``."""
    union = get_args(ResponseStreamEvent)[0]  # Annotated[Union[...], discriminator]
    return {get_args(cls.model_fields["type"].annotation)[0]: cls for cls in get_args(union)}


class WorkerOpenAI(AsyncOpenAI):
    """AsyncOpenAI that sends the conversation untransformed and parses stream
    events by their type, through ``with_streaming_response`` and ``with_options``
    copies too."""

    def _process_response_data(self, *, data: object, cast_to: Any, response: Any) -> Any:
        if cast_to is ResponseStreamEvent and isinstance(data, dict):
            cls = _stream_event_classes().get(data.get("type"))  # type: ignore[arg-type]
            if cls is not None:
                try:
                    return cls.model_validate(data)
                except pydantic.ValidationError:
                    pass  # the stock parser's lenient handling of what does not fit
        return super()._process_response_data(data=data, cast_to=cast_to, response=response)

    @cached_property
    def responses(self) -> AsyncResponses:  # type: ignore[override]
        return _Responses(self)

    @cached_property
    def chat(self) -> AsyncChat:  # type: ignore[override]
        return _Chat(self)
