"""``python -m desktop.bench.long_conversation``: the window with a long conversation.

Builds a data dir whose store holds one conversation of ``--turns`` turns (replies in
Markdown, with lists and code blocks, a tool call every few turns), opens the window
on it without a backend (the window reads the store), and prints:

- time to first paint: from asking to open the conversation to the first paint of
  the transcript showing its newest turn;
- scroll frame times: scrolling up a page at a time, from the scroll to its frame
  painted (older turns load on the way if the window loads lazily);
- memory: the window's resident set with the conversation open, beside the same
  window idle (no conversation open).

No backend runs. ``QT_QPA_PLATFORM=offscreen`` (or a display, e.g. under Xvfb).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import qasync
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from backend.bench.figures import percentile
from backend.bench.scale_data import DataShape, conversation
from backend.client.store import ConversationStore
from backend.client.store_types import ExportedConversation
from backend.local.paths import DataDir

MB = 1024 * 1024

CODE = '''```python
def {name}(values: list[int]) -> int:
    """Sum the even ones."""
    total = 0
    for value in values:
        if value % 2 == 0:
            total += value
    return total
```'''


@dataclass
class Figures:
    turns: int
    first_paint_ms: float
    turns_built_at_first_paint: int
    scroll_frames: int
    scroll_frame_p50_ms: float
    scroll_frame_p95_ms: float
    scroll_frame_max_ms: float
    reached_top: bool
    idle_rss_mb: float
    open_rss_mb: float
    open_minus_idle_mb: float


def long_conversation(turns: int, seed: int = 7) -> ExportedConversation:
    """One conversation of ``turns`` turns whose replies read like a model's: prose,
    a list every few turns, a code block every few turns."""
    rng = random.Random(seed)
    made = conversation(rng, DataShape(1, turns * 2, seed), time.time() - 86_400 * 30)
    conv = made.conversation
    for i, turn in enumerate(conv.turns):
        parts = [turn.reply]
        if i % 3 == 0:
            parts.append("\n".join(f"- point {k}: {turn.reply[:40]}" for k in range(1, 4)))
        if i % 4 == 1:
            parts.append(CODE.format(name=f"sum_even_{i}"))
        turn.reply = "\n\n".join(parts)
    return conv


class PaintWatch(QObject):
    """Notes paint events inside one widget (the transcript), as an application-wide
    event filter: a child that covers its parent gets the paint, not the parent."""

    def __init__(self, inside: QWidget) -> None:
        super().__init__()
        self.inside = inside
        self.painted: list[QWidget] = []
        self.event = asyncio.Event()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(obj, QWidget)
            and self.inside.isAncestorOf(obj)
        ):
            self.painted.append(obj)
            self.event.set()
        return False

    def saw_paint_in(self, widget: QWidget | None) -> bool:
        return widget is not None and any(
            p is widget or widget.isAncestorOf(p) for p in self.painted
        )


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / MB


async def settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()
        await asyncio.sleep(0)


async def measure(app: QApplication, root: Path, conversation_id: str, turns: int) -> Figures:
    from desktop.main_window import MainWindow

    window = MainWindow(DataDir(root), supervise=False)
    window.resize(1200, 800)
    window.show()
    await settle(app, 20)
    idle = rss_mb()

    transcript = window.transcript
    watch = PaintWatch(transcript)
    app.installEventFilter(watch)
    newest = _newest_turn_id(root, conversation_id)
    started = time.perf_counter()
    window.open_conversation(conversation_id)
    # The first paint that shows the newest turn.
    while not watch.saw_paint_in(transcript.widgets.get(newest)):
        watch.event.clear()
        watch.painted.clear()
        await watch.event.wait()
    first_paint_ms = (time.perf_counter() - started) * 1000
    # Done watching: the list of painted widgets would keep every one alive.
    app.removeEventFilter(watch)
    watch.painted.clear()
    built = len(transcript.widgets)

    bar = transcript.verticalScrollBar()
    frames: list[float] = []
    for _ in range(5000):
        if bar.value() == bar.minimum():
            await settle(app)  # older turns may load once the top is reached
            if bar.value() == bar.minimum():
                break
        t0 = time.perf_counter()
        bar.setValue(max(bar.minimum(), bar.value() - bar.pageStep()))
        app.processEvents()
        frames.append((time.perf_counter() - t0) * 1000)
    reached_top = bar.value() == bar.minimum() and _first_turn_id(root, conversation_id) in (
        transcript.widgets
    )
    await settle(app, 10)
    opened = rss_mb()
    window.close()  # never started: it closes at once, the store with it
    return Figures(
        turns=turns,
        first_paint_ms=round(first_paint_ms, 1),
        turns_built_at_first_paint=built,
        scroll_frames=len(frames),
        scroll_frame_p50_ms=round(percentile(frames, 0.5), 1),
        scroll_frame_p95_ms=round(percentile(frames, 0.95), 1),
        scroll_frame_max_ms=round(max(frames, default=0.0), 1),
        reached_top=reached_top,
        idle_rss_mb=round(idle, 1),
        open_rss_mb=round(opened, 1),
        open_minus_idle_mb=round(opened - idle, 1),
    )


def _newest_turn_id(root: Path, conversation_id: str) -> str:
    with ConversationStore.in_data_dir(root) as store:
        return store.history(conversation_id, last=1).turns[-1].turn_id


def _first_turn_id(root: Path, conversation_id: str) -> str:
    with ConversationStore.in_data_dir(root) as store:
        return store.history(conversation_id).turns[0].turn_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.bench.long_conversation")
    parser.add_argument("--turns", type=int, default=2000, help="turns in the conversation")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="durachat-window-bench-") as tmp:
        root = DataDir(Path(tmp) / "data").ensure().root
        conv = long_conversation(args.turns)
        with ConversationStore.in_data_dir(root) as store:
            store.import_conversation(conv)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            figures = loop.run_until_complete(
                measure(app, root, conv.conversation_id, args.turns)  # type: ignore[arg-type]
            )
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        print(f"A {figures.turns:,}-turn conversation in the window ({_platform()}):")
        print(f"  time to first paint        {figures.first_paint_ms:8.1f} ms  (target < 200)")
        print(f"  turns built at first paint {figures.turns_built_at_first_paint:8d}")
        print(
            f"  scroll frames (page up)    p50 {figures.scroll_frame_p50_ms:.1f} ms, "
            f"p95 {figures.scroll_frame_p95_ms:.1f} ms, max {figures.scroll_frame_max_ms:.1f} ms "
            f"over {figures.scroll_frames} frames (reached the first turn: "
            f"{'yes' if figures.reached_top else 'no'})"
        )
        print(
            f"  memory                     {figures.open_rss_mb:.1f} MB open, "
            f"{figures.idle_rss_mb:.1f} MB idle: +{figures.open_minus_idle_mb:.1f} MB "
            "(target within 60)"
        )
    return 0


def _platform() -> str:
    app = QApplication.instance()
    return app.platformName() if isinstance(app, QApplication) else "?"


if __name__ == "__main__":
    raise SystemExit(main())
