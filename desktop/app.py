"""``durachat`` with no arguments: the desktop window on a qasync event loop."""

from __future__ import annotations

import asyncio
import signal
import sys

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backend.local.logs import setup_process_logging
from backend.local.paths import DataDir
from backend.local.settings import Settings, SettingsError
from backend.supervisor.lock import DataDirLock
from backend.supervisor.supervisor import SupervisorOptions
from backend.temporal_logging import forward_core_logs
from desktop.main_window import MainWindow
from desktop.settings.theme import apply_theme
from desktop.single_instance import InstanceServer, ask_running_window_to_show
from resources import icon_path


async def run_window(window: MainWindow) -> None:
    """Show the window at once, start the backend behind it, return once it is closed
    and the backend is stopped."""
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    loop = asyncio.get_running_loop()
    # SIGTERM (logout, `kill`) and Ctrl+C close the window the normal way, which
    # stops the backend and removes runtime.json before the process exits.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, window.close)
    window.show()
    window.start()
    await closed.wait()


def _settings(data: DataDir) -> tuple[Settings, str | None]:
    try:
        return Settings.load(data.settings_file), None
    except SettingsError as exc:
        return Settings(), str(exc)


def main(data_dir: str | None = None, argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("DuraChat")
    app.setDesktopFileName("durachat")
    app.setWindowIcon(QIcon(str(icon_path())))
    # The window closes itself only after the backend has stopped.
    app.setQuitOnLastWindowClosed(False)
    data = DataDir.resolve(data_dir).ensure()
    if ask_running_window_to_show(data):
        print(f"durachat: already running on {data.root}; brought its window to the front")
        return 0
    setup_process_logging(data.logs / "window.log")
    forward_core_logs()
    settings, settings_error = _settings(data)
    apply_theme(app, settings.theme, settings.text_scale)
    # A backend started by `durachat serve` already owns this data dir: use it.
    supervise = not DataDirLock(data).is_held_elsewhere()
    window = MainWindow(
        data, SupervisorOptions(data_dir=data, web_ui=settings.web_ui), supervise=supervise
    )
    if settings_error:
        window.status_label.setToolTip(settings_error)
    instance = InstanceServer(data)
    instance.show_requested.connect(window.bring_to_front)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(run_window(window))
    instance.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
