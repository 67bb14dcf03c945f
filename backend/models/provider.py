"""The model provider the worker gives the OpenAI Agents plugin.

Chooses, at every model call, from the user's current settings: OpenAI (Responses
API), an OpenAI-compatible server (Chat Completions), or the demo model. The API
key is read here, in the worker, at call time, and goes only into the HTTP client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
from agents import Model, ModelProvider, OpenAIChatCompletionsModel, OpenAIResponsesModel
from openai import AsyncOpenAI
from temporalio.exceptions import ApplicationError

from backend.local.keys import KeyUnavailable, get_api_key
from backend.local.settings import Settings, SettingsError
from backend.models.endpoint import EndpointError, choose_endpoint
from backend.models.openai_client import WorkerOpenAI
from backend.models.streaming_model import StreamingModel, TurnsContext
from backend.stream.redis_stream import EventPublisher


class ConfigurationError(ApplicationError):
    """Something the user must fix in settings: retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="ConfigurationError", non_retryable=True)


class DuraChatModelProvider(ModelProvider):
    def __init__(
        self,
        settings: Callable[[], Settings],
        publisher: EventPublisher,
        demo_base_url: str | None,
        turns_context: TurnsContext | None = None,
    ) -> None:
        self._settings = settings
        self._turns_context = turns_context
        self._publisher = publisher
        self._demo_base_url = demo_base_url
        # One client per endpoint and key, so connections are reused across calls.
        self._clients: dict[tuple[str, str, float], AsyncOpenAI] = {}

    def get_model(self, model_name: str | None) -> Model:
        try:
            settings = self._settings()
        except SettingsError as exc:
            raise ConfigurationError(str(exc)) from None
        base_url, key = self._endpoint(settings, self._demo_base_url)
        client = self._client(base_url, key, settings.request_timeout_s)
        name = settings.model_name
        inner: Model
        if settings.uses_responses_api:
            inner = OpenAIResponsesModel(model=name, openai_client=client)
        else:
            inner = OpenAIChatCompletionsModel(model=name, openai_client=client)
        return StreamingModel(
            inner,
            label=settings.describe(),
            endpoint=base_url,
            publisher=self._publisher,
            timeout_s=settings.request_timeout_s,
            max_reply_s=settings.max_reply_s,
            turns_context=self._turns_context,
        )

    @staticmethod
    def _endpoint(settings: Settings, demo_base_url: str | None) -> tuple[str, str]:
        try:
            key = None if settings.provider == "demo" else get_api_key(settings.provider)
            return choose_endpoint(settings, demo_base_url, key)
        except (KeyUnavailable, EndpointError) as exc:
            raise ConfigurationError(str(exc)) from None

    def _client(self, base_url: str, key: str, timeout: float) -> AsyncOpenAI:
        fingerprint = hashlib.sha256(key.encode()).hexdigest()  # the key itself is not kept twice
        cache_key = (base_url, fingerprint, timeout)
        client = self._clients.get(cache_key)
        if client is None:
            client = WorkerOpenAI(
                base_url=base_url,
                api_key=key,
                # Temporal retries (with backoff, visible in the stream); the client must not.
                max_retries=0,
                timeout=httpx.Timeout(timeout, connect=5.0),
            )
            self._clients[cache_key] = client
        return client
