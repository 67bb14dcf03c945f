"""Secrets an MCP server's configuration names as ``keyring:NAME``.

They live in the OS keyring (service ``durachat-mcp``) and are read only by the
worker, when it starts the server, straight into that server's environment or
request headers: never into mcp.json, a log, the workflow or another process.
Where no keyring exists this says so; it never falls back to a plain-text file.
"""

from __future__ import annotations

import keyring
import keyring.errors

from backend.local.keys import keyring_available
from backend.mcp.config import SECRET_PREFIX

SERVICE = "durachat-mcp"
NO_KEYRING = (
    "no keyring is available on this system (install and unlock a Secret Service such as "
    "GNOME Keyring or KWallet), so an MCP server's secret cannot be kept safely"
)


class SecretUnavailable(RuntimeError):
    """A referenced secret cannot be had; the message names it and says what to do."""


def get_secret(name: str) -> str:
    if not keyring_available():
        raise SecretUnavailable(f"{NO_KEYRING}: {name!r} cannot be read")
    try:
        value = keyring.get_password(SERVICE, name)
    except keyring.errors.KeyringError as exc:
        raise SecretUnavailable(f"the keyring could not be read: {exc}") from None
    if value is None:
        raise SecretUnavailable(
            f"the keyring holds no secret named {name!r} "
            f"(store it with: durachat mcp secret {name})"
        )
    return value


def set_secret(name: str, value: str) -> None:
    if not keyring_available():
        raise SecretUnavailable(NO_KEYRING)
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise SecretUnavailable(f"the keyring refused the secret: {exc}") from None


def delete_secret(name: str) -> None:
    """Forget a secret (one that is not there is fine)."""
    if not keyring_available():
        return
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        pass  # not there: nothing to forget
    except keyring.errors.KeyringError as exc:
        raise SecretUnavailable(f"the keyring would not forget {name!r}: {exc}") from None


def resolved(values: dict[str, str]) -> dict[str, str]:
    """``values`` with every ``keyring:NAME`` replaced by the secret it names."""
    return {
        key: get_secret(value[len(SECRET_PREFIX) :]) if value.startswith(SECRET_PREFIX) else value
        for key, value in values.items()
    }
