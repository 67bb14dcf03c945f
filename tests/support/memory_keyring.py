"""An in-memory keyring backend for tests (the OS keyring cannot run here).

Selected with ``PYTHON_KEYRING_BACKEND=tests.support.memory_keyring.MemoryKeyring``
and the repo root on PYTHONPATH, so child processes get it too. Each process has its own
memory: a test that needs a key in a child sets it in that child's environment.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self._store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None
