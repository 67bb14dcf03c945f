"""``durachat`` with no arguments: the desktop window on a qasync event loop."""

from __future__ import annotations

import asyncio
import sys

import qasync
from PySide6.QtWidgets import QApplication

from backend.logs import setup_process_logging
from backend.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.main_window import MainWindow


async def run_window(window: MainWindow) -> None:
    """Show the window at once, start the backend behind it, return once it is closed
    and the backend is stopped."""
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    window.start()
    await closed.wait()


def main(data_dir: str | None = None, argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("DuraChat")
    app.setDesktopFileName("durachat")
    # The window closes itself only after the backend has stopped.
    app.setQuitOnLastWindowClosed(False)
    data = DataDir.resolve(data_dir).ensure()
    setup_process_logging(data.logs / "window.log")
    window = MainWindow(data, SupervisorOptions(data_dir=data))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(run_window(window))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
