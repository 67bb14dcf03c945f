"""Which endpoint (base URL and key) a model call with given settings goes to.

The one place that decides it: the worker's model provider and the Settings
dialog's "Test connection" both use it. Free of the Agents SDK, so the window can
import it without paying about 1 s.

A real API key travels only over HTTPS, or over plain HTTP to this machine
(127.0.0.0/8, ::1, localhost): on any other plain-HTTP URL everyone on the path
could read it, so such a pairing is refused here, before any request is made.
"""

from __future__ import annotations

import ipaddress

import httpx

from backend.local.keys import NO_KEYRING, keyring_available
from backend.local.settings import OPENAI_BASE_URL, Settings

# What the OpenAI client gets when there is no key: it insists on one, and this one is
# no secret, so it may go anywhere (a keyless Ollama on the LAN ignores it).
NO_KEY = "not-needed"


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


def is_loopback_host(host: str) -> bool:
    """True for a host that is this machine: 127.0.0.0/8, ::1 (also as ::ffff:127.x) or
    localhost. Anything else, a LAN address or a name DNS could answer, is not."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # IPv6 only
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def key_may_go_to(base_url: str) -> bool:
    """Whether a real API key may be sent to ``base_url`` (an http(s) URL)."""
    url = httpx.URL(base_url)
    return url.scheme == "https" or (url.scheme == "http" and is_loopback_host(url.host))


def unsafe_key_problem(settings: Settings, base_url: str) -> str | None:
    """Why the key for ``settings.provider`` must not go to ``base_url``, or None.

    One line that says what to fix, for both the CLI and the Settings dialog.
    """
    if key_may_go_to(base_url):
        return None
    refusal = (
        f"refusing to send the API key unencrypted to {base_url} (plain http to another machine)"
    )
    if settings.provider == "openai":
        return (
            f"{refusal}: set an https:// base URL such as {OPENAI_BASE_URL} "
            "(durachat serve --provider openai --base-url URL)"
        )
    return (
        f"{refusal}: use an https:// base URL, or, if that server needs no key, remove the "
        "OpenAI-compatible key from Settings and unset DURACHAT_API_KEY"
    )


def choose_endpoint(
    settings: Settings, demo_base_url: str | None, api_key: str | None
) -> tuple[str, str]:
    """The base URL and key a model call with ``settings`` uses.

    Raises EndpointError, never pairing a real key with a plain-http URL on another
    machine.
    """
    if settings.provider == "demo":
        if not demo_base_url:
            raise EndpointError("the demo model is not running in this backend")
        # The supervisor's own loopback URL, and "demo" is no secret.
        return demo_base_url, "demo"
    if settings.provider == "openai":
        if not api_key:
            hint = "" if keyring_available() else f" ({NO_KEYRING})"
            raise EndpointError(f"no OpenAI API key is set: add one in Settings{hint}")
        base_url = settings.base_url or OPENAI_BASE_URL  # a set base URL is a proxy
    else:
        if problem := base_url_problem(settings.base_url):
            raise EndpointError(problem)
        assert settings.base_url is not None  # base_url_problem said so
        base_url = settings.base_url
        if not api_key:
            # A keyless local server (Ollama, llama.cpp), even over plain http on the
            # LAN: nothing secret is sent, so nothing can leak.
            return base_url, NO_KEY
    if problem := base_url_problem(base_url):
        raise EndpointError(problem)
    # With a key present we refuse rather than quietly send the call without it: a
    # server that needs the key would then fail with a puzzling 401, and the user would
    # not learn that the key was about to go out in clear text. Refusing names the fix.
    if problem := unsafe_key_problem(settings, base_url):
        raise EndpointError(problem)
    return base_url, api_key
