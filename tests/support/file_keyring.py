"""A keyring backend for tests that spans processes: a JSON file named by an env var.

Stands in for the OS keyring where a test needs the worker (a child process) to
read a key the test stored. The file lives outside the data dir, like a real
keyring's store would.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

ENV = "DURACHAT_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ[ENV])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(data))


@contextlib.contextmanager
def no_keyring_here() -> Iterator[None]:
    """This process, too, sees a system without a keyring (as its children are told
    to with PYTHON_KEYRING_BACKEND): it then shares their key file."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def own_keyring(where: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A keyring and a config dir of the test's own, for this process and (through the
    environment returned) its children: a user of their own. The two go together, as
    the config dir records where the user's encryption key was made."""
    env = {ENV: str(where / "keyring.json"), "XDG_CONFIG_HOME": str(where / "config")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
