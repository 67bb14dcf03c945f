"""API keys: the OS keyring (service ``durachat``), or an environment variable.

The key is read by the worker at the moment it calls the model, and passed only
to the HTTP client: never to a workflow, Redis, a log or a file. Where no keyring
backend exists, this says so; it never falls back to a plain-text file.
"""

from __future__ import annotations

import contextlib
import os

import keyring
import keyring.errors
from keyring.backends import fail

SERVICE = "durachat"
ENV_VARS = ("DURACHAT_API_KEY", "OPENAI_API_KEY")
# OPENAI_API_KEY is exported by many developers for other tools: it goes to OpenAI
# only, never to an OpenAI-compatible server someone else runs (a LAN Ollama, a
# proxy, maybe over plain http). DURACHAT_API_KEY is meant for DuraChat's provider.
_PROVIDERS_OF_ENV_VAR = {"DURACHAT_API_KEY": None, "OPENAI_API_KEY": "openai"}


def env_var_for(provider: str) -> str | None:
    """The environment variable whose key ``provider`` would use, if one is set."""
    for var in ENV_VARS:
        meant_for = _PROVIDERS_OF_ENV_VAR[var]
        if os.environ.get(var) and meant_for in (None, provider):
            return var
    return None


class KeyUnavailable(RuntimeError):
    """No key can be had; the message tells the user what to do."""


def keyring_available() -> bool:
    return not isinstance(keyring.get_keyring(), fail.Keyring)


NO_KEYRING = (
    "no keyring is available on this system (install and unlock a Secret Service such as "
    "GNOME Keyring or KWallet), so the key cannot be stored safely; set DURACHAT_API_KEY in "
    "the environment instead"
)


def get_api_key(provider: str) -> str | None:
    """The key for ``provider``: the environment first (the user's explicit choice), then
    the keyring. None when neither has one."""
    if var := env_var_for(provider):
        return os.environ[var]
    return keyring_read(SERVICE, provider) if keyring_available() else None


def set_api_key(provider: str, key: str) -> None:
    keyring_store(SERVICE, provider, key, NO_KEYRING)


def delete_api_key(provider: str) -> None:
    keyring_forget(SERVICE, provider)


# The keyring calls themselves, for API keys here and MCP servers' secrets
# (backend/mcp/secrets.py): the keyring's errors become KeyUnavailable, one line.


def keyring_read(service: str, name: str) -> str | None:
    try:
        return keyring.get_password(service, name)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring could not be read: {exc}") from None


def keyring_store(service: str, name: str, value: str, no_keyring: str) -> None:
    """``no_keyring``: what to tell the user where there is no keyring at all."""
    if not keyring_available():
        raise KeyUnavailable(no_keyring)
    try:
        keyring.set_password(service, name, value)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring refused it: {exc}") from None


def keyring_forget(service: str, name: str) -> None:
    """Forget one entry (one that is not there is fine)."""
    if not keyring_available():
        return
    try:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(service, name)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring would not forget it: {exc}") from None
