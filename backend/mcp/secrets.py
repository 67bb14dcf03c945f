"""Secrets an MCP server's configuration names as ``keyring:NAME``.

They live in the OS keyring (service ``durachat-mcp``) and are read only by the
worker, when it starts the server, straight into that server's environment or
request headers: never into mcp.json, a log, the workflow or another process.
Where no keyring exists this says so; it never falls back to a plain-text file.
"""

from __future__ import annotations

from backend.local.keys import (
    KeyUnavailable,
    keyring_available,
    keyring_forget,
    keyring_read,
    keyring_store,
)
from backend.mcp.config import SECRET_PREFIX

SERVICE = "durachat-mcp"
NO_KEYRING = (
    "no keyring is available on this system (install and unlock a Secret Service such as "
    "GNOME Keyring or KWallet), so an MCP server's secret cannot be kept safely"
)
# A secret that cannot be had: the message names it and says what to do.
SecretUnavailable = KeyUnavailable


def get_secret(name: str) -> str:
    if not keyring_available():
        raise SecretUnavailable(f"{NO_KEYRING}: {name!r} cannot be read")
    value = keyring_read(SERVICE, name)
    if value is None:
        raise SecretUnavailable(
            f"the keyring holds no secret named {name!r} "
            f"(store it with: durachat mcp secret {name})"
        )
    return value


def set_secret(name: str, value: str) -> None:
    keyring_store(SERVICE, name, value, NO_KEYRING)


def delete_secret(name: str) -> None:
    keyring_forget(SERVICE, name)


def resolved(values: dict[str, str]) -> dict[str, str]:
    """``values`` with every ``keyring:NAME`` replaced by the secret it names."""
    return {
        key: get_secret(value[len(SECRET_PREFIX) :]) if value.startswith(SECRET_PREFIX) else value
        for key, value in values.items()
    }
