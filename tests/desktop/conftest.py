"""The window against a real backend (``durachat serve``, the demo model unpaced)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.main_window import MainWindow
from tests.support.serve_process import ServeProcess


class _SegmentedLoop(qasync.QEventLoop):
    """The app runs one qasync loop for its whole life; a test runs it in segments
    (``run_until_complete`` per step). After each segment qasync processes Qt's events
    once more with no running loop set, and a task step that lands there (a reply
    being followed, a Redis read) fails with "no running event loop", or leaves a
    coroutine never awaited. Here that last pass runs with the loop set, as every
    step does in the app."""

    def run_forever(self) -> None:
        try:
            return super().run_forever()
        finally:
            asyncio.events._set_running_loop(self)  # for run_until_complete's last pass

    def run_until_complete(self, future):  # type: ignore[no-untyped-def]
        try:
            return super().run_until_complete(future)
        finally:
            asyncio.events._set_running_loop(None)


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop on the test's QApplication; tests run their scenario in it."""
    qapp.setQuitOnLastWindowClosed(False)  # as desktop.app does: closing stops the backend first
    event_loop = _SegmentedLoop(qapp, already_running=False)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    _settle(event_loop)
    event_loop.close()
    asyncio.set_event_loop(None)
    # What the test made (Qt wrappers, Temporal and Redis clients) goes now, between
    # tests, not whenever the collector next runs inside another test's event loop.
    gc.collect()


def _settle(event_loop: qasync.QEventLoop) -> None:
    """Finish what a test left behind while its loop still runs: cancel its leftover
    tasks (a task never run would be a coroutine never awaited) and delete the
    windows it scheduled for deletion (deleteLater), instead of in the next test."""
    leftover = [t for t in asyncio.all_tasks(event_loop) if not t.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        event_loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
    # A moment of the running loop: Qt carries out deleteLater here.
    event_loop.run_until_complete(asyncio.sleep(0.05))


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
    ready: list[bool] = []
    win.ready.connect(lambda: ready.append(True))
    win.show()

    async def started() -> None:
        win.start()
        # Ready means the start-up is over, including reopening the most recent
        # conversation (an earlier test's): then start an empty one for this test.
        await until(lambda: ready, 15, "window ready")
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


def open_own_window(
    data: DataDir, loop: qasync.QEventLoop, tokens_per_second: float = 0
) -> MainWindow:
    """A window that starts (and on close stops) its own backend on ``data``, as
    ``durachat`` does; returns once it is ready."""
    win = MainWindow(
        data, SupervisorOptions(data_dir=data, demo_tokens_per_second=tokens_per_second)
    )
    ready: list[bool] = []
    win.ready.connect(lambda: ready.append(True))
    win.show()

    async def started() -> None:
        win.start()
        # Ready: the start-up is over (the list read, the last conversation reopened),
        # so none of its calls is left to run between this loop run and the test's next.
        await until(lambda: ready, 60, "window ready")

    loop.run_until_complete(started())
    return win


def close_own_window(win: MainWindow, loop: qasync.QEventLoop) -> None:
    win.close()  # as the user does: the backend stops behind it
    loop.run_until_complete(until(lambda: win._shut_down, 60, "backend stopped"))
    win.deleteLater()
