"""Connecting to Temporal: one place that knows the namespace and how to wait for it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.plugin import SimplePlugin

from backend.encryption.codec import EncryptionCodec
from backend.encryption.payload_key import PayloadKeys, require_keys

NAMESPACE = "default"
TASK_QUEUE = "durachat"
# MCP tool calls and listings: served by the worker's MCP worker, which starts over
# whenever mcp.json changes while the conversation worker runs on.
MCP_TASK_QUEUE = "durachat-mcp"


def _encrypted(converter: DataConverter, codec: EncryptionCodec) -> DataConverter:
    # Failure messages and stack traces carry conversation text too (a tool's
    # error, a provider's reply): they go into the encoded attributes.
    return dataclasses.replace(
        converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def client_data_converter(keys: PayloadKeys) -> DataConverter:
    """Pydantic JSON, which the worker's OpenAIPayloadConverter (pydantic too) reads,
    sealed by the payload codec; a reply that does not decrypt is an error."""
    return _encrypted(pydantic_data_converter, EncryptionCodec(keys))


def worker_encryption_plugin(keys: PayloadKeys) -> SimplePlugin:
    """The codec for the worker; goes after every plugin that sets the payload
    converter. Lenient: input that is not ours is handed on marked, for the workflow
    to drop, rather than failing a workflow task for ever."""
    codec = EncryptionCodec(keys, lenient=True)
    return SimplePlugin(
        "durachat.encryption",
        data_converter=lambda converter: _encrypted(converter or DataConverter(), codec),
    )


async def connect(address: str, keys: PayloadKeys | None = None) -> Client:
    """A client for starting and talking to workflows (the keys: the user's, by default).

    The OpenAI Agents plugin is not needed here and would cost seconds of imports
    in every CLI call.
    """
    return await Client.connect(
        address,
        namespace=NAMESPACE,
        data_converter=client_data_converter(keys if keys is not None else require_keys()),
    )


async def wait_until_serving(
    address: str, timeout: float, interval: float = 0.05, keys: PayloadKeys | None = None
) -> Client:
    """Connect once the server answers for our namespace; raise TimeoutError otherwise.

    A bare TCP connect is not enough: the dev server accepts connections a moment
    before its namespace is registered.
    """
    keys = keys if keys is not None else require_keys()
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await connect(address, keys)
            left = timedelta(seconds=max(0.1, deadline - time.monotonic()))
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=NAMESPACE), timeout=left
            )
            return client
        except Exception as exc:  # any failure here means "not yet"
            last_error = exc
            await asyncio.sleep(interval)
    raise TimeoutError(f"Temporal at {address} did not answer: {last_error}")
