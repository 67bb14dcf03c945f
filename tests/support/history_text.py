"""A workflow history as text a test can search: every payload decrypted with the
user's key, and failure messages restored from their encoded attributes."""

from __future__ import annotations

import json

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.client import WorkflowHistory
from temporalio.converter import WorkflowSerializationContext

from backend.encryption.codec import EncryptionCodec
from backend.encryption.payload_key import require_keys
from backend.temporal_connect import NAMESPACE


def decrypted_text(history: WorkflowHistory) -> str:
    codec = EncryptionCodec(require_keys(), lenient=True).with_context(  # lenient: headers
        WorkflowSerializationContext(namespace=NAMESPACE, workflow_id=history.workflow_id)
    )
    payload_texts: list[str] = []

    def visit(msg: Message) -> None:
        if isinstance(msg, Payload):
            msg.CopyFrom(codec.decrypt(msg))
            payload_texts.append(msg.data.decode("utf-8", "replace"))
            return
        for field, value in msg.ListFields():
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                children = list(value.values())
            elif field.is_repeated:
                children = list(value)
            else:
                children = [value]
            for child in children:
                if isinstance(child, Message):
                    visit(child)
        if isinstance(msg, Failure) and msg.HasField("encoded_attributes"):
            attributes = json.loads(msg.encoded_attributes.data)
            msg.message = attributes.get("message", "")
            msg.stack_trace = attributes.get("stack_trace", "")

    for event in history.events:
        visit(event)

    return history.to_json() + "\n" + "\n".join(payload_texts)
