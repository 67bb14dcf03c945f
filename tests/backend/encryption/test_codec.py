"""The payload codec and the workflow's input check: pure, no servers."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.converter import WorkflowSerializationContext

from backend.encryption import payload_key
from backend.encryption.codec import EncryptionCodec, PayloadUndecryptable, is_plain
from backend.encryption.payload_key import PayloadKey, PayloadKeyError
from backend.workflows.conversation_types import UserMessage
from backend.workflows.tool_budget import MODEL_BUDGET_BYTES, ToolOutputBudget
from backend.workflows.trusted_input import InputRejected, decode
from tests.support.file_keyring import ENV as KEYRING_FILE_ENV
from tests.support.file_keyring import FileKeyring, no_keyring_here


def _json(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


def test_a_payload_round_trips_and_nothing_of_it_is_readable() -> None:
    codec = EncryptionCodec([PayloadKey.new()])
    secret = _json({"text": "the pelican flies at noon"})
    (sealed,) = asyncio.run(codec.encode([secret]))
    assert b"pelican" not in sealed.SerializeToString()
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    (opened,) = asyncio.run(codec.decode([sealed]))
    assert opened == secret
    # A random nonce: the same payload never seals the same way twice.
    assert asyncio.run(codec.encode([secret]))[0].data != sealed.data


def test_damaged_forged_or_foreign_payloads_never_decode() -> None:
    key = PayloadKey.new()
    (sealed,) = asyncio.run(EncryptionCodec([key]).encode([_json("hi")]))
    flipped = Payload()
    flipped.CopyFrom(sealed)
    flipped.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    forged = Payload(metadata={"encoding": b"binary/encrypted", "encryption-key-id": b"x"})
    other_key = EncryptionCodec([PayloadKey.new()])
    strict = EncryptionCodec([key])
    for bad, codec in ((flipped, strict), (forged, strict), (sealed, other_key)):
        with pytest.raises(PayloadUndecryptable):
            codec.decrypt(bad)
    # The worker's lenient codec hands on a marked null instead of failing a task.
    lenient = EncryptionCodec([key], lenient=True)
    marked = lenient.decrypt(flipped)
    assert marked.metadata["encoding"] == b"binary/null"
    with pytest.raises(InputRejected, match="does not decrypt"):
        decode(RawValue(marked), TypeAdapter(str), legacy=True, max_bytes=100, what="t")


def test_plain_input_is_refused_unless_the_run_predates_the_key() -> None:
    codec = EncryptionCodec([PayloadKey.new()], lenient=True)
    plain = codec.decrypt(_json({"message_id": "m1", "text": "hi"}))
    assert is_plain(plain)
    adapter = TypeAdapter(UserMessage)
    with pytest.raises(InputRejected, match="not encrypted"):
        decode(RawValue(plain), adapter, legacy=False, max_bytes=1000, what="send")
    assert decode(RawValue(plain), adapter, legacy=True, max_bytes=1000, what="send").text == "hi"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"foo": 1}, "message_id"),
        ({"message_id": "m", "text": 123}, "text"),
        ({"message_id": "m", "text": ""}, "text"),
        ({"message_id": "m" * 200, "text": "hi"}, "message_id"),
        ("x" * 5000, "bytes, over"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(value: object, reason: str) -> None:
    codec = EncryptionCodec([PayloadKey.new()], lenient=True)
    (sealed,) = asyncio.run(codec.encode([_json(value)]))
    (opened,) = asyncio.run(codec.decode([sealed]))
    with pytest.raises(InputRejected, match=reason):
        decode(RawValue(opened), TypeAdapter(UserMessage), legacy=False, max_bytes=4000, what="s")


def test_without_a_keyring_the_key_is_a_private_file_outside_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with no_keyring_here():
        made = payload_key.ensure_keys()
        assert payload_key.ensure_keys() == made  # made once, then read
        path = payload_key.key_file()
        assert path.is_relative_to(tmp_path / "config")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "no keyring" in payload_key.where_kept()
        path.write_text("{not json")
        with pytest.raises(PayloadKeyError, match="damaged"):
            payload_key.require_keys()
        path.unlink()
        with pytest.raises(PayloadKeyError, match="missing"):
            payload_key.require_keys()


def test_a_key_in_a_keyring_that_is_gone_is_never_replaced_by_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.json"))
    in_keyring = payload_key.ensure_keys()
    with no_keyring_here():  # a session without the keyring (over ssh, say)
        with pytest.raises(PayloadKeyError, match="not available now: unlock it"):
            payload_key.ensure_keys()
        assert not payload_key.key_file().exists()
    assert payload_key.ensure_keys() == in_keyring


def test_keys_in_both_places_all_open_what_they_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.json"))
    with no_keyring_here():
        from_file = payload_key.ensure_keys().current  # made while no keyring existed
    FileKeyring().set_password("durachat", "payload-key", PayloadKey.new().to_json())
    keys = payload_key.require_keys()
    assert [k.key_id for k in keys][1:] == [from_file.key_id]  # the keyring's seals
    assert keys.encrypted_since == min(k.created_at for k in keys)
    (sealed,) = asyncio.run(EncryptionCodec([from_file]).encode([_json("old")]))
    assert EncryptionCodec(keys).decrypt(sealed) == _json("old")


def test_one_turn_sends_the_model_a_bounded_share_of_tool_output() -> None:
    budget = ToolOutputBudget()
    first = budget.for_model("a" * 200_000)
    assert first == "a" * 200_000
    second = budget.for_model("é" * 100_000)  # 200 KB of UTF-8
    assert second.startswith("é" * 50_000) and "more bytes were not sent" in second
    assert len(second.split("\n[")[0].encode()) == MODEL_BUDGET_BYTES - 200_000
    assert budget.for_model("b").startswith("\n[DuraChat cut")
    assert budget.for_record("c" * 10) == "c" * 10


def test_a_payload_sealed_for_one_conversation_does_not_open_in_another() -> None:
    codec = EncryptionCodec([PayloadKey.new()])

    def of(workflow_id: str) -> EncryptionCodec:
        return codec.with_context(
            WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
        )

    sealed = of("conversation-a").encrypt(_json({"message_id": "m", "text": "hi"}))
    assert of("conversation-a").decrypt(sealed) == _json({"message_id": "m", "text": "hi"})
    for wrong in (of("conversation-b"), codec):  # another conversation, or none said
        with pytest.raises(PayloadUndecryptable):
            wrong.decrypt(sealed)
    # Claiming it was not bound does not help: the claim is authenticated too.
    stripped = Payload()
    stripped.CopyFrom(sealed)
    del stripped.metadata["encryption-bound-to-workflow"]
    with pytest.raises(PayloadUndecryptable):
        of("conversation-b").decrypt(stripped)
