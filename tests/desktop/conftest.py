"""The window against a real backend (``durachat serve``, the demo model unpaced)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.main_window import MainWindow
from desktop.session import ChatSession
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


class Emissions:
    """A signal's emissions from the moment this is made (make it before the action
    that emits), waited on from the running qasync loop: ``qtbot.waitSignal`` would
    spin a nested Qt loop inside the test's asyncio scenario."""

    def __init__(self, signal: SignalInstance) -> None:
        self.seen: list[tuple[Any, ...]] = []
        self._new = asyncio.Event()
        signal.connect(self._note)

    def _note(self, *args: Any) -> None:
        self.seen.append(args)
        self._new.set()

    async def wait_for(
        self,
        match: Callable[..., bool] = lambda *_: True,
        timeout: float = 30,
        what: str = "a signal",
    ) -> tuple[Any, ...]:
        """The arguments of the first emission ``match`` accepts, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((args for args in self.seen if match(*args)), None)
            if found is not None:
                return found
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


class SettledTurns(Emissions):
    """The session's ``turn_settled``: a turn's follower has ended, its durable
    version shown."""

    def __init__(self, session: ChatSession) -> None:
        super().__init__(session.turn_settled)

    async def status_of(self, turn_id: str, timeout: float = 30) -> str:
        _cid, _tid, status = await self.wait_for(
            lambda _c, t, _s: t == turn_id, timeout, f"turn {turn_id} settled"
        )
        return status


@pytest.fixture
def window(backend: ServeProcess, loop: qasync.QEventLoop) -> Iterator[MainWindow]:
    """The window on the module's running backend, on a new (empty) conversation.

    Not qtbot.addWidget: the window must stop (asynchronously) before it is deleted.
    """
    win = MainWindow(DataDir(backend.data_dir), supervise=False)
    ready = Emissions(win.ready)
    win.show()

    async def started() -> None:
        win.start()
        # Ready means the start-up is over, including reopening the most recent
        # conversation (an earlier test's): then start an empty one for this test.
        await ready.wait_for(timeout=15, what="window ready")
        await win.notifier.connected()  # see open_own_window
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
    ready = Emissions(win.ready)
    win.show()

    async def started() -> None:
        win.start()
        # Ready: the start-up is over (the list read, the last conversation reopened),
        # so none of its calls is left to run between this loop run and the test's next.
        await ready.wait_for(timeout=60, what="window ready")
        # And the notifier connected to the session bus: its D-Bus client starts tasks
        # that need a running asyncio loop, which the test's Qt event processing
        # between loop runs (qtbot) is not; the app's loop runs for good.
        await win.notifier.connected()

    loop.run_until_complete(started())
    return win


def close_own_window(win: MainWindow, loop: qasync.QEventLoop) -> None:
    closed = Emissions(win.closed)
    win.close()  # as the user does: the backend stops behind it
    loop.run_until_complete(closed.wait_for(timeout=60, what="backend stopped"))
    assert not win.isVisible() and win.client is None and win.link.supervisor is None
    win.deleteLater()
