"""The window against a real backend (``durachat serve``, the demo model unpaced)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop on the test's QApplication; tests run their scenario in it."""
    qapp.setQuitOnLastWindowClosed(False)  # as desktop.app does: closing stops the backend first
    event_loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


async def until(predicate: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    """Wait on the running qasync loop (Qt keeps painting) until ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        await asyncio.sleep(0.01)
