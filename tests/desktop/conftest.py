"""The window against a real backend (``durachat serve``, the demo model unpaced)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.paths import DataDir
from desktop.main_window import MainWindow
from tests.support.serve_process import ServeProcess


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


@pytest.fixture
def window(backend: ServeProcess, loop: qasync.QEventLoop) -> Iterator[MainWindow]:
    """The window on the module's running backend, on a new (empty) conversation.

    Not qtbot.addWidget: the window must stop (asynchronously) before it is deleted.
    """
    win = MainWindow(DataDir(backend.data_dir), supervise=False)
    win.show()

    async def started() -> None:
        win.start()
        await until(lambda: win.client is not None and win.composer.isEnabled(), 15)
        # On start the window reopens the most recent conversation (an earlier test's).
        win.new_conversation()

    loop.run_until_complete(started())
    yield win
    loop.run_until_complete(win.shutdown())
    assert not win.isVisible() and win.client is None
    win.deleteLater()


def type_and_send(qtbot: QtBot, win: MainWindow, text: str) -> None:
    win.composer.setFocus()
    qtbot.keyClicks(win.composer, text)
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
