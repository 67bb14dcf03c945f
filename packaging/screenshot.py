"""Take the README's screenshot: the real window mid-stream, a tool card, the side panel.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/screenshot.py docs/window.png

Starts its own backend in a temporary data dir (demo model), asks a tool question,
then a slow reply with reasoning and code, and grabs the window while it streams.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backend.demo_model.script import CODE_REPLY
from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.main_window import MainWindow
from desktop.settings.theme import apply_theme
from resources import icon_path


async def until(predicate, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        await asyncio.sleep(0.02)


async def stage(window: MainWindow, out: Path) -> None:
    window.start()
    await until(window.composer.isEnabled)
    window.composer.setPlainText("What is 12*7?")
    window.composer.submit()
    await until(lambda: any(t.status == "done" for t in window.model.turns.values()))
    first = next(iter(window.model.turns))
    window.composer.setPlainText("Think it through, then show me some Python code [demo tps=12]")
    window.composer.submit()
    second = next(t for t in window.model.turns if t != first)
    await until(lambda: len(window.model.turns[second].reply) > len(CODE_REPLY) * 0.7)
    card = next(iter(window.transcript.widgets[first].cards.values()))
    card.click()  # selects the call in the side panel
    await asyncio.sleep(0.3)  # let a frame or two paint
    window.grab().save(str(out))
    print(f"saved {out}")
    window.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/window.png").resolve()
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, "light")
    with tempfile.TemporaryDirectory(prefix="durachat-shot-") as tmp:
        data = DataDir(Path(tmp) / "data").ensure()
        window = MainWindow(data, SupervisorOptions(data_dir=data))
        window.resize(1360, 820)
        window.show()
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        closed = asyncio.Event()
        window.closed.connect(closed.set)

        async def run() -> None:
            await stage(window, out)
            await closed.wait()

        with loop:
            loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
