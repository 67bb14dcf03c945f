"""The key that encrypts every Temporal payload: made on first start, kept in the keyring.

Where no keyring exists (a Linux box without a Secret Service), the key goes to a
0600 file in the user's config dir: outside the data dir, so a copied or backed-up
data dir holds only ciphertext. ``durachat doctor`` says which of the two is used.
One key per user account: every data dir of the user shares it. A key is made
only when none exists anywhere, and never again after one was made in the
keyring (keyring_marker).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
import platformdirs

from backend.local.keys import SERVICE, keyring_available
from backend.local.paths import APP_NAME

KEYRING_USER = "payload-key"
KEY_BYTES = 32  # AES-256


class PayloadKeyError(RuntimeError):
    """The key cannot be had; the message says why and what to do."""


@dataclass(frozen=True)
class PayloadKey:
    key_id: str
    secret: bytes
    # Unix seconds. Runs started before it were written without encryption and may
    # still hold plain payloads (see backend/workflows/trusted_input.py).
    created_at: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.key_id,
                "key": base64.b64encode(self.secret).decode(),
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_json(cls, text: str, where: str) -> PayloadKey:
        try:
            raw = json.loads(text)
            key = cls(str(raw["id"]), base64.b64decode(raw["key"]), float(raw["created_at"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadKeyError(f"the encryption key in {where} is damaged ({exc})") from None
        if len(key.secret) != KEY_BYTES:
            raise PayloadKeyError(f"the encryption key in {where} is damaged (wrong length)")
        return key

    @classmethod
    def new(cls) -> PayloadKey:
        return cls(f"k-{secrets.token_hex(4)}", secrets.token_bytes(KEY_BYTES), time.time())


@dataclass(frozen=True)
class PayloadKeys:
    """Every key the user holds: the first seals, any of them opens."""

    keys: tuple[PayloadKey, ...]

    def __iter__(self) -> Iterator[PayloadKey]:
        return iter(self.keys)

    @property
    def current(self) -> PayloadKey:
        return self.keys[0]

    @property
    def encrypted_since(self) -> float:
        """When the first key was made: nothing was encrypted before it."""
        return min(k.created_at for k in self.keys)


def key_file() -> Path:
    """The fallback location, used only where no keyring exists."""
    return _config_dir() / "payload-key.json"


def keyring_marker() -> Path:
    """Holds no secret: says the key was made in the keyring, so a start that finds no
    keyring (a session without one, the keyring locked) refuses to make a second key,
    which would leave every conversation written with the first unreadable."""
    return _config_dir() / "payload-key-is-in-the-keyring"


def _config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def where_kept() -> str:
    """For ``doctor``: where the key lives (or will live) on this system."""
    if keyring_available():
        return f"the OS keyring ({type(keyring.get_keyring()).__name__})"
    return f"{key_file()} (mode 0600; no keyring on this system)"


def load_keys() -> PayloadKeys | None:
    """Every key found, in the keyring and in the fallback file; None if there is none.
    Both are read: a key made while one of them was missing must still open what it
    sealed."""
    found: list[PayloadKey] = []
    if keyring_available():
        try:
            text = keyring.get_password(SERVICE, KEYRING_USER)
        except keyring.errors.KeyringError as exc:
            raise PayloadKeyError(f"the keyring could not be read: {exc}") from None
        if text:
            found.append(PayloadKey.from_json(text, "the keyring"))
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise PayloadKeyError(f"cannot read the encryption key {path}: {exc.strerror}") from None
    if text and all(k.key_id != PayloadKey.from_json(text, str(path)).key_id for k in found):
        found.append(PayloadKey.from_json(text, str(path)))
    return PayloadKeys(tuple(found)) if found else None


def require_keys() -> PayloadKeys:
    """The keys, for a client of a running backend or its worker: the backend made one
    at its start, so none is an error."""
    keys = load_keys()
    if keys is None:
        raise PayloadKeyError(_missing())
    return keys


def ensure_keys() -> PayloadKeys:
    """The keys, one made and stored first if this is DuraChat's first start."""
    keys = load_keys()
    if keys is not None:
        return keys
    if keyring_marker().exists():
        raise PayloadKeyError(_missing())  # never a second key in place of a locked one
    key = PayloadKey.new()
    if keyring_available():
        try:
            keyring.set_password(SERVICE, KEYRING_USER, key.to_json())
        except keyring.errors.KeyringError as exc:
            raise PayloadKeyError(f"the keyring refused the encryption key: {exc}") from None
        _write_new_file(keyring_marker(), "the encryption key is in the OS keyring\n")
    else:
        _write_new_file(key_file(), key.to_json())
    # Read back what was stored: two first starts racing use what the store kept.
    stored = load_keys()
    if stored is None:
        raise PayloadKeyError(f"the encryption key could not be stored in {where_kept()}")
    return stored


def _missing() -> str:
    if keyring_marker().exists() and not keyring_available():
        return (
            "the key that encrypts your conversations is in the OS keyring, which is not "
            "available now: unlock it, or start a Secret Service such as GNOME Keyring "
            "(conversations cannot be read without the key)"
        )
    return (
        f"the key that encrypts your conversations is missing from {where_kept()}; "
        "start DuraChat to make one (conversations written with a lost key cannot be read)"
    )


def _write_new_file(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: a key another start made a moment ago is never replaced.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise PayloadKeyError(
            f"cannot store the encryption key in {path}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
