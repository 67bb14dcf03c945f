"""Filling a data dir's conversation store through its own API (``bulk_import``)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backend.bench.scale_data import DataShape, Made, conversations
from backend.client.store import STORE_FILE, ConversationStore
from backend.local.paths import DataDir

BATCH = 500  # conversations per bulk_import call (one transaction each)


@dataclass
class Built:
    conversations: int = 0
    messages: int = 0
    tool_calls: int = 0
    seconds: float = 0.0  # making the text up and importing it
    import_seconds: float = 0.0  # of which in the store's bulk_import
    store_bytes: int = 0
    # For searches with known answers: a topic, and a made-up name with its conversation.
    topics: list[str] = field(default_factory=list)
    project: str = ""
    project_conversation: str = ""


def _take(made: list[Made], built: Built) -> None:
    for m in made:
        conv = m.conversation
        built.conversations += 1
        built.messages += 2 * len(conv.turns)
        built.tool_calls += sum(len(t.tool_calls) for t in conv.turns)
        if m.topic not in built.topics:
            built.topics.append(m.topic)
    if not built.project and made:
        middle = made[len(made) // 2]
        built.project, built.project_conversation = (
            middle.project,
            middle.conversation.conversation_id,
        )


def _store_bytes(root: Path) -> int:
    files = [root / STORE_FILE, root / f"{STORE_FILE}-wal"]
    return sum(f.stat().st_size for f in files if f.exists())


def build(root: Path, shape: DataShape, progress: Callable[[str], None]) -> Built:
    """Make ``root`` a data dir (as DuraChat makes one) and fill its store."""
    DataDir(root).ensure()
    built = Built()
    started = time.perf_counter()
    made = conversations(shape, now=time.time())
    with ConversationStore.in_data_dir(root) as store:
        while batch := list(itertools.islice(made, BATCH)):
            importing = time.perf_counter()
            store.bulk_import(m.conversation for m in batch)
            built.import_seconds += time.perf_counter() - importing
            _take(batch, built)
            if built.conversations % (BATCH * 4) == 0 or built.conversations == shape.conversations:
                progress(f"built {built.conversations:,}/{shape.conversations:,} conversations")
    built.seconds = time.perf_counter() - started
    built.store_bytes = _store_bytes(root)
    return built
