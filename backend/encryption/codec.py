"""AES-GCM payload codec: every Temporal payload DuraChat writes is ciphertext.

Each payload is serialized whole (metadata and data) and sealed with a random
96-bit nonce; the key id travels in the clear metadata, so payloads sealed with
any key the user holds can be opened (see payload_key.load_keys). A workflow's
payloads are bound to its id (authenticated, not secret), so none can be copied
into another conversation.
Temporal's server, its database, its Web UI and anyone else reaching its port
see only ``binary/encrypted`` payloads.

Decoding is lenient where the input may come from someone else: a payload that
was never encrypted (written before the codec, or sent by another local user)
passes through marked ``PLAIN_MARK``, and one that does not decrypt becomes
``None`` marked ``UNREADABLE_MARK``, so the workflow can drop it instead of
failing its task for ever (see backend/workflows/trusted_input.py). Clients
decode strictly: a reply they cannot decrypt, or one that was never encrypted
(which only something other than DuraChat's worker can have written), is an
error, never shown.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

from backend.encryption.payload_key import PayloadKey

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
# Set on a payload sealed for one workflow: its id is part of the authenticated data,
# so the payload cannot be moved into another conversation.
BOUND = "encryption-bound-to-workflow"
PLAIN_MARK = "durachat-plain"
UNREADABLE_MARK = "durachat-unreadable"
NONCE_BYTES = 12


class PayloadUndecryptable(ValueError):
    """A payload that says it is encrypted does not decrypt with any key held here."""


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, keys: Iterable[PayloadKey], *, lenient: bool = False) -> None:
        keys = list(keys)
        if not keys:
            raise ValueError("the codec needs a key")
        self._current = keys[0]
        self._ciphers = {k.key_id: AESGCM(k.secret) for k in keys}
        self._lenient = lenient
        self._workflow_id: str | None = None

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        """The codec for one workflow's payloads (Temporal gives every workflow's and
        activity's payloads their context)."""
        workflow_id = getattr(context, "workflow_id", None)
        if workflow_id == self._workflow_id:
            return self
        bound = copy.copy(self)  # the same ciphers, another workflow
        bound._workflow_id = workflow_id
        return bound

    def _associated(self, key_id: str, bound: bool) -> bytes:
        """What is authenticated with the payload besides itself."""
        if not bound:
            return key_id.encode()
        if self._workflow_id is None:
            raise PayloadUndecryptable(
                "a payload sealed for one conversation was read without saying which"
            )
        return key_id.encode() + b"\0" + self._workflow_id.encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._current.key_id
        bound = self._workflow_id is not None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, payload.SerializeToString(), self._associated(key_id, bound)
        )
        metadata = {"encoding": ENCODING, KEY_ID: key_id.encode()}
        if bound:
            metadata[BOUND] = b"1"
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if not self._lenient:
                raise PayloadUndecryptable("a payload was not encrypted: DuraChat did not write it")
            marked = Payload()
            marked.CopyFrom(payload)
            marked.metadata[PLAIN_MARK] = b"1"
            return marked
        try:
            return self._open(payload)
        except PayloadUndecryptable:
            if not self._lenient:
                raise
            return Payload(metadata={"encoding": b"binary/null", UNREADABLE_MARK: b"1"})

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadUndecryptable(
                f"a payload is encrypted with key {key_id!r}, which this system does not hold"
            )
        data = payload.data
        associated = self._associated(key_id, BOUND in payload.metadata)
        try:
            opened = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], associated)
            result = Payload()
            result.ParseFromString(opened)
        except (InvalidTag, ValueError, DecodeError) as exc:
            raise PayloadUndecryptable(
                f"a payload does not decrypt with key {key_id!r}: it was damaged, forged or "
                "moved from another conversation"
            ) from exc
        return result


def is_plain(payload: Payload) -> bool:
    """True for a payload that reached the codec unencrypted."""
    return PLAIN_MARK in payload.metadata


def is_unreadable(payload: Payload) -> bool:
    return UNREADABLE_MARK in payload.metadata
