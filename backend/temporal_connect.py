"""Connecting to Temporal: one place that knows the namespace and how to wait for it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

NAMESPACE = "default"
TASK_QUEUE = "durachat"


async def connect(address: str) -> Client:
    return await Client.connect(address, namespace=NAMESPACE)


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
