"""The key that encrypts every Temporal payload: made on first start, kept in the keyring.

Where no keyring exists (a Linux box without a Secret Service), the key goes to a
0600 file in the user's config dir: outside the data dir, so a copied or backed-up
data dir holds only ciphertext. ``durachat doctor`` says which of the two is used.
One key per user account: every data dir of the user shares it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
import platformdirs

from backend.keys import SERVICE, keyring_available
from backend.paths import APP_NAME

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


def key_file() -> Path:
    """The fallback location, used only where no keyring exists."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "payload-key.json"


def where_kept() -> str:
    """For ``doctor``: where the key lives (or will live) on this system."""
    if keyring_available():
        return f"the OS keyring ({type(keyring.get_keyring()).__name__})"
    return f"{key_file()} (mode 0600; no keyring on this system)"


def load_key() -> PayloadKey | None:
    """The key, or None if it was never made."""
    if keyring_available():
        try:
            text = keyring.get_password(SERVICE, KEYRING_USER)
        except keyring.errors.KeyringError as exc:
            raise PayloadKeyError(f"the keyring could not be read: {exc}") from None
        return PayloadKey.from_json(text, "the keyring") if text else None
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PayloadKeyError(f"cannot read the encryption key {path}: {exc.strerror}") from None
    return PayloadKey.from_json(text, str(path))


def require_key() -> PayloadKey:
    """The key for a client of a running backend, which made it at its start."""
    key = load_key()
    if key is None:
        raise PayloadKeyError(
            f"the key that encrypts your conversations is missing from {where_kept()}; "
            "start DuraChat once to make one (conversations written with a lost key "
            "cannot be read)"
        )
    return key


def ensure_key() -> PayloadKey:
    """The key, made and stored first if this is DuraChat's first start."""
    key = load_key()
    if key is not None:
        return key
    key = PayloadKey.new()
    if keyring_available():
        try:
            keyring.set_password(SERVICE, KEYRING_USER, key.to_json())
        except keyring.errors.KeyringError as exc:
            raise PayloadKeyError(f"the keyring refused the encryption key: {exc}") from None
    else:
        _write_new_file(key_file(), key.to_json())
    # Read back what was stored: two first starts racing keep the same key.
    stored = load_key()
    if stored is None:
        raise PayloadKeyError(f"the encryption key could not be stored in {where_kept()}")
    return stored


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
