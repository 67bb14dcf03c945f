"""Connecting to Temporal: one place that knows the namespace and how to wait for it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

NAMESPACE = "default"
TASK_QUEUE = "durachat"


async def connect(address: str) -> Client:
    """A client for starting and talking to workflows.

    Pydantic JSON on the wire, which the worker's OpenAIPayloadConverter (pydantic
    too) reads; the plugin itself is not needed here and would cost seconds of
    imports in every CLI call.
    """
    return await Client.connect(
        address, namespace=NAMESPACE, data_converter=pydantic_data_converter
    )


async def wait_until_serving(address: str, timeout: float, interval: float = 0.05) -> Client:
    """Connect once the server answers for our namespace; raise TimeoutError otherwise.

    A bare TCP connect is not enough: the dev server accepts connections a moment
    before its namespace is registered.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await connect(address)
            left = timedelta(seconds=max(0.1, deadline - time.monotonic()))
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=NAMESPACE), timeout=left
            )
            return client
        except Exception as exc:  # any failure here means "not yet"
            last_error = exc
            await asyncio.sleep(interval)
    raise TimeoutError(f"Temporal at {address} did not answer: {last_error}")
