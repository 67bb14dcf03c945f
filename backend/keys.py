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
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value:
            return value
    if not keyring_available():
        return None
    try:
        return keyring.get_password(SERVICE, provider)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring could not be read: {exc}") from None


def set_api_key(provider: str, key: str) -> None:
    if not keyring_available():
        raise KeyUnavailable(NO_KEYRING)
    try:
        keyring.set_password(SERVICE, provider, key)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring refused the key: {exc}") from None


def delete_api_key(provider: str) -> None:
    if not keyring_available():
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE, provider)
