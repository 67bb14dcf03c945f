"""Which endpoint (base URL and key) a model call with given settings goes to.

The one place that decides it: the worker's model provider and the Settings
dialog's "Test connection" both use it. Free of the Agents SDK, so the window can
import it without paying about 1 s.
"""

from __future__ import annotations

import httpx

from backend.keys import NO_KEYRING, keyring_available
from backend.settings import OPENAI_BASE_URL, Settings


class EndpointError(ValueError):
    """The settings name no usable endpoint; the message says what to fix."""


def base_url_problem(base_url: str | None) -> str | None:
    """Why ``base_url`` cannot be an OpenAI-compatible server's URL, or None if it can."""
    if not base_url:
        return "no base URL is set for the OpenAI-compatible server"
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        return f"the base URL {base_url!r} is not an http(s) URL, e.g. http://127.0.0.1:11434/v1"
    return None


def choose_endpoint(
    settings: Settings, demo_base_url: str | None, api_key: str | None
) -> tuple[str, str]:
    """The base URL and key a model call with ``settings`` uses."""
    if settings.provider == "demo":
        if not demo_base_url:
            raise EndpointError("the demo model is not running in this backend")
        return demo_base_url, "demo"
    if settings.provider == "openai":
        if not api_key:
            hint = "" if keyring_available() else f" ({NO_KEYRING})"
            raise EndpointError(f"no OpenAI API key is set: add one in Settings{hint}")
        return settings.base_url or OPENAI_BASE_URL, api_key
    if problem := base_url_problem(settings.base_url):
        raise EndpointError(problem)
    assert settings.base_url is not None  # base_url_problem said so
    # Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
    return settings.base_url, api_key or "not-needed"
