"""Take the README's and docs' screenshots of the real window.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python packaging/screenshot.py docs/screenshots

Starts its own backend in a temporary data dir (demo model) and saves, in order:
``welcome.png`` (first run, no conversation), ``chat-light.png`` and ``chat-dark.png``
(mid-reply: reasoning, a tool card, code streaming, the tool panel) and
``long-conversation.png`` (a 2,000-turn conversation imported and opened).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backend.client.store_types import Export
from backend.demo_model.script import CODE_REPLY
from backend.local.paths import DataDir
from backend.supervisor.supervisor import SupervisorOptions
from desktop.bench.long_conversation import long_conversation
from desktop.main_window import MainWindow
from desktop.settings.theme import apply_theme
from resources import icon_path

LONG_TURNS = 2000


async def until(predicate: Callable[[], object], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        await asyncio.sleep(0.02)


async def frames(app: QApplication, count: int = 10) -> None:
    """Let the window paint a few frames (layout, then paint) before a grab."""
    for _ in range(count):
        app.processEvents()
        await asyncio.sleep(0.02)


def save(window: MainWindow, path: Path) -> None:
    window.grab().save(str(path))
    print(f"saved {path}")


async def stage(app: QApplication, window: MainWindow, out: Path, tmp: Path) -> None:
    window.start()
    await until(window.composer.isEnabled)
    await until(lambda: not window.welcome.isHidden())
    await frames(app)
    save(window, out / "welcome.png")

    window.composer.setPlainText("What is 12*7?")
    window.composer.submit()
    await until(lambda: any(t.status == "done" for t in window.model.turns.values()))
    first = next(iter(window.model.turns))
    window.composer.setPlainText("Think it through, then show me some Python code [demo tps=8]")
    window.composer.submit()
    second = next(t for t in window.model.turns if t != first)
    await until(lambda: len(window.model.turns[second].reply) > len(CODE_REPLY) * 0.6)
    card = next(iter(window.transcript.widgets[first].cards.values()))
    card.click()  # selects the call in the side panel
    await frames(app)
    save(window, out / "chat-light.png")
    apply_theme(app, "dark")
    await frames(app)
    save(window, out / "chat-dark.png")
    await until(lambda: window.model.turns[second].status == "done")

    # A tool of an MCP server that asks before it runs: the approval card.
    apply_theme(app, "light")
    window.new_conversation()
    window.composer.setPlainText(
        'Add "buy rye flour" to my notes [demo tool=note:{"text": "buy rye flour"}]'
    )
    window.composer.submit()
    await until(
        lambda: any(
            c.status == "waiting"
            for t in window.model.turns.values()
            for c in t.tool_calls.values()
        )
    )
    await frames(app, 20)
    save(window, out / "approval.png")
    apply_theme(app, "dark")

    export = tmp / "long.json"
    conv = long_conversation(LONG_TURNS)
    conv.title = "Notes on a year of kitchen experiments"
    export.write_text(Export(exported_at=time.time(), conversations=[conv]).model_dump_json())
    window.import_file(export)
    window.open_conversation(conv.conversation_id)
    last = conv.turns[-1].turn_id
    await until(lambda: last in window.transcript.widgets)
    await frames(app, 20)
    save(window, out / "long-conversation.png")
    window.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, "light")
    with tempfile.TemporaryDirectory(prefix="durachat-shot-") as tmp:
        data = DataDir(Path(tmp) / "data").ensure()
        # The benchmark's MCP server: its "note" tool asks before it runs.
        notes = {"command": sys.executable, "args": ["-m", "backend.bench.mcp_server"]}
        data.mcp_file.write_text(json.dumps({"mcpServers": {"notes": notes}}))
        window = MainWindow(data, SupervisorOptions(data_dir=data))
        window.resize(1360, 820)
        window.show()
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        closed = asyncio.Event()
        window.closed.connect(closed.set)

        async def run() -> None:
            await stage(app, window, out, Path(tmp))
            await closed.wait()

        with loop:
            loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
