"""The Settings dialog's "Test connection": reach the provider the next reply would use.

It goes through ``choose_endpoint`` (``endpoint.py``), like the worker's model
provider, so the check talks to exactly the server a model call would.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import time
from dataclasses import dataclass
from types import ModuleType

import httpx

from backend.local.settings import Settings
from backend.models.endpoint import EndpointError, choose_endpoint

# Enough for a model list from a healthy server; a dialog must not wait a minute.
CHECK_TIMEOUT_S = 10.0
_SHOWN_MODELS = 5


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str  # one sentence naming the URL; never the key
    latency_ms: float | None = None


async def check_connection(
    settings: Settings,
    api_key: str | None,
    demo_base_url: str | None,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> ConnectionResult:
    """List the server's models (free, unlike a completion) and look for the chosen one.

    Never raises for anything the user can cause: every failure is a ConnectionResult.
    """
    try:
        base_url, key = choose_endpoint(settings, demo_base_url, api_key)
    except EndpointError as exc:
        return ConnectionResult(False, as_sentence(str(exc)))
    # The window awaits this on its UI loop, and importing openai the first time takes
    # about 0.4 s: import it on a thread so the window keeps painting.
    openai = await asyncio.to_thread(importlib.import_module, "openai")
    started = time.monotonic()
    try:
        async with openai.AsyncOpenAI(
            base_url=base_url,
            api_key=key,
            max_retries=0,  # one honest answer, now
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        ) as client:
            page = await client.models.list()
            offered = [model.id for model in page.data]
    except Exception as exc:
        message = _failure(openai, exc, base_url, timeout_s)
        return ConnectionResult(False, _scrub(message, api_key))
    latency_ms = (time.monotonic() - started) * 1000
    return _model_verdict(settings.model_name, offered, base_url, latency_ms)


def _model_verdict(
    name: str, offered: list[str], base_url: str, latency_ms: float
) -> ConnectionResult:
    ms = f"{latency_ms:.0f} ms"
    if not offered:
        return ConnectionResult(
            True,
            f"Connected to {base_url} in {ms}; it lists no models, so {name!r} is unconfirmed.",
            latency_ms,
        )
    # Ollama lists "llama3.2:latest" and answers to "llama3.2".
    if name in offered or f"{name}:latest" in offered:
        return ConnectionResult(
            True, f"Connected to {base_url} in {ms}; the model {name!r} is available.", latency_ms
        )
    shown = ", ".join(offered[:_SHOWN_MODELS])
    more = f" and {len(offered) - _SHOWN_MODELS} more" if len(offered) > _SHOWN_MODELS else ""
    return ConnectionResult(
        False,
        f"{base_url} answered in {ms} but does not offer the model {name!r} "
        f"(it offers {shown}{more}).",
        latency_ms,
    )


def _failure(openai: ModuleType, exc: Exception, base_url: str, timeout_s: float) -> str:
    # Order matters: APITimeoutError is an APIConnectionError.
    if isinstance(exc, openai.APITimeoutError):
        return f"{base_url} did not answer within {timeout_s:g} s."
    if isinstance(exc, openai.APIConnectionError):
        return f"Could not reach {base_url}: {_transport_reason(exc)}."
    if isinstance(exc, openai.AuthenticationError):
        # The server's own text is left out: OpenAI's repeats part of the key.
        return f"{base_url} rejected the API key (401 Unauthorized); check the key."
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{base_url} refused access with this API key (403 Forbidden)."
    if isinstance(exc, openai.NotFoundError):
        return (
            f"{base_url} has no model list (404 Not Found); check the base URL "
            "(it usually ends in /v1)."
        )
    if isinstance(exc, openai.RateLimitError):
        return f"{base_url} is rate limiting this key (429); try again later."
    if isinstance(exc, openai.APIStatusError):
        return f"{base_url} answered {exc.status_code}: {_server_text(exc)}."
    if isinstance(exc, UnicodeEncodeError):
        # Raised while building the Authorization header; its text holds the key.
        return f"The API key for {base_url} has characters an HTTP header cannot carry."
    if isinstance(exc, openai.OpenAIError | ValueError):
        return f"{base_url} did not answer like an OpenAI-compatible server."
    return f"Checking {base_url} failed: {type(exc).__name__}."


def _transport_reason(exc: Exception) -> str:
    # openai wraps httpx2, which wraps httpcore2, which wraps the socket's own error.
    links: list[BaseException] = []
    node: BaseException | None = exc.__cause__
    while node is not None and len(links) < 10:
        links.append(node)
        node = node.__cause__ or node.__context__
    for link in links:
        if isinstance(link, ConnectionRefusedError):
            return "the connection was refused (is the server running on that port?)"
        if isinstance(link, socket.gaierror):
            return "the host name could not be resolved"
    text = str(links[0]) if links else ""
    return text.splitlines()[0] if text else "the connection failed"


def _server_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"].rstrip(".")
    return type(exc).__name__


def _scrub(message: str, api_key: str | None) -> str:
    """Whatever a server echoed, the user's key never reaches the dialog."""
    return message.replace(api_key, "****") if api_key else message


def as_sentence(text: str) -> str:
    """Capitalised, with a full stop: how the dialog shows a message."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else f"{text}."
