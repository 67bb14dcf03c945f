"""The window's own backend: started behind the window, stopped when it closes."""

from __future__ import annotations

from pathlib import Path

import qasync

from backend.client.store import ConversationStore
from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from backend.workflows.conversation_types import Turn
from desktop.backend_link import STARTING
from desktop.main_window import MainWindow
from tests.desktop.conftest import Emissions, until
from tests.support.serve_process import ServeProcess


def test_window_starts_and_stops_its_backend(tmp_path: Path, loop: qasync.QEventLoop) -> None:
    data = DataDir(tmp_path / "data")
    win = MainWindow(data, SupervisorOptions(data_dir=data, demo_tokens_per_second=0))
    win.show()

    async def scenario() -> None:
        win.start()
        assert win.status_label.text() == STARTING  # shown at once, before anything is up
        assert not win.composer.isEnabled()
        # Progress: the parts appear as they start, the worker (slowest) not yet ready.
        await until(lambda: "○ worker" in win.health_label.text(), 10, "parts listed")
        await until(lambda: win.composer.isEnabled(), 60, "backend ready")
        assert win.status_label.text().startswith("Ready")
        assert "● temporal" in win.health_label.text()
        assert data.runtime_file.exists()
        closed = Emissions(win.closed)
        win.close()  # the close waits for the backend to stop
        await closed.wait_for(timeout=30, what="stopped")
        assert win.link.supervisor is None and not win.isVisible()
        assert not data.runtime_file.exists()

    loop.run_until_complete(scenario())
    win.deleteLater()


def test_a_backend_that_cannot_start_says_why_with_retry(
    backend: ServeProcess, loop: qasync.QEventLoop
) -> None:
    # The data dir is already served by another process: the lock refuses a second one.
    data = DataDir(backend.data_dir)
    win = MainWindow(data, SupervisorOptions(data_dir=data))
    win.show()
    failures = Emissions(win.failed)

    async def scenario() -> None:
        win.start()
        (message,) = await failures.wait_for(timeout=20, what="failure")
        assert message == win.status_label.text()
        assert win.retry_button.isVisibleTo(win)
        assert str(data.logs) in win.status_label.text()
        assert "did not start" in win.status_label.text()
        await win.shutdown()

    loop.run_until_complete(scenario())
    assert backend.proc is not None and backend.proc.poll() is None  # untouched
    win.deleteLater()


def test_a_window_never_started_closes_at_once(tmp_path: Path, loop: qasync.QEventLoop) -> None:
    """No backend started, nothing to stop: the window reads the store, and closes (the
    store with it) the moment it is asked to, as the window benchmark does."""
    data = DataDir(tmp_path / "data").ensure()
    with ConversationStore.in_data_dir(data.root) as store:
        store.record_turn(
            "conversation-stored",
            Turn(turn_id="m1", user_text="hello", reply="hi", status="done", ended_at=1),
        )
    win = MainWindow(data, supervise=False)
    win.show()
    closed = Emissions(win.closed)
    shut_down = Emissions(win.session.shut_down)
    win.open_conversation("conversation-stored")
    loop.run_until_complete(until(lambda: "m1" in win.transcript.widgets, 10, "shown"))
    assert win.close()  # accepted there and then
    assert closed.seen == [()] and shut_down.seen == [()]
    assert not win.isVisible() and win.session.closed
    win.deleteLater()
