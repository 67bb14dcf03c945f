"""The window's own backend: started behind the window, stopped when it closes."""

from __future__ import annotations

from pathlib import Path

import qasync

from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.main_window import STARTING, MainWindow
from tests.desktop.conftest import until
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
        win.close()  # the close waits for the backend to stop
        await until(lambda: win.supervisor is None and not win.isVisible(), 30, "stopped")
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
    failures: list[str] = []
    win.failed.connect(failures.append)

    async def scenario() -> None:
        win.start()
        await until(lambda: failures, 20, "failure")
        assert win.retry_button.isVisibleTo(win)
        assert str(data.logs) in win.status_label.text()
        assert "did not start" in win.status_label.text()
        await win.shutdown()

    loop.run_until_complete(scenario())
    assert backend.proc is not None and backend.proc.poll() is None  # untouched
    win.deleteLater()
