"""Reading at scale: ``list``, search and ``history`` through the client API, and
``durachat list --json`` as a process; then ``list`` right after a worker SIGKILL."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backend.bench.scale_backend import Serve
from backend.bench.scale_build import Built
from backend.bench.scale_timing import repeated_ms, summary_ms, timed
from backend.bench.scale_words import TOPICS
from backend.client.api import DuraChatClient

LIST_RUNS = 20
SEARCH_RUNS = 10
HISTORY_RUNS = 20
HISTORY_LAST = 50
CLI_RUNS = 5
# A word no made-up conversation uses: the search that finds nothing.
ABSENT_WORD = "zyzzyva"


def search_queries(built: Built) -> list[tuple[str, str]]:
    """(what it is, query): searches as a user types them, from one word most
    conversations use to one that names a single conversation."""
    topic = built.topics[0]
    other = built.topics[1] if len(built.topics) > 1 else topic
    return [
        ("a word most conversations use", "because"),
        (f"a topic's word ({topic})", _topic_word(topic)),
        ("two words of one topic", f"{_topic_word(topic)} {_topic_word(topic, 1)}"),
        ("a word typed half-way (prefix)", _topic_word(other)[:5]),
        ("one conversation's made-up name", built.project),
        ("a word in no conversation", ABSENT_WORD),
    ]


def _topic_word(topic: str, index: int = 0) -> str:
    return TOPICS[topic][index]


async def measure_list(client: DuraChatClient) -> dict[str, Any]:
    samples = await repeated_ms(client.list, LIST_RUNS)
    return {**summary_ms(samples), "count": len(await client.list())}


async def measure_searches(client: DuraChatClient, built: Built) -> list[dict[str, Any]]:
    out = []
    for what, query in search_queries(built):
        samples = await repeated_ms(lambda q=query: client.list(q), SEARCH_RUNS)
        hits = await client.list(query)
        found = any(s.conversation_id == built.project_conversation for s in hits)
        out.append(
            {"what": what, "query": query, "hits": len(hits), **summary_ms(samples)}
            | ({"finds_its_conversation": found} if query == built.project else {})
        )
    return out


async def measure_history(client: DuraChatClient, conversation_id: str) -> dict[str, Any]:
    async def read() -> object:
        return await client.history(conversation_id, last=HISTORY_LAST)

    samples = await repeated_ms(read, HISTORY_RUNS)
    view = await client.history(conversation_id, last=HISTORY_LAST)
    return {
        **summary_ms(samples),
        "conversation_id": conversation_id,
        "turns_read": len(view.turns),
        "turns_in_conversation": len(view.turns) + view.earlier_turns,
        "bytes_read": sum(len(t.user_text) + len(t.reply) for t in view.turns),
    }


def cli_list_argv(data_dir: Path) -> list[str]:
    """``durachat list --json``: the installed script when there is one, as a user runs it."""
    script = Path(sys.executable).parent / "durachat"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "backend"]
    return [*head, "list", "--data-dir", str(data_dir), "--json"]


def measure_cli_list(data_dir: Path) -> dict[str, Any]:
    argv = cli_list_argv(data_dir)
    seconds: list[float] = []
    count = -1
    for _ in range(CLI_RUNS):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"durachat list failed ({done.returncode}): {done.stderr[-500:]}")
        count = len(json.loads(done.stdout))
    return {
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "runs": CLI_RUNS,
        "count": count,
        "argv": argv,
    }


async def list_after_worker_kill(client: DuraChatClient, serve: Serve) -> dict[str, Any]:
    """SIGKILL the worker, list at once, then list again while it comes back."""
    expected = len(await client.list())
    killed_at = time.perf_counter()
    killed = serve.kill_worker()
    first_ms, first = await timed(client.list)
    down = not serve.new_worker_started(killed)
    samples: list[float] = []
    back_at: float | None = None
    for _ in range(LIST_RUNS):
        samples.append((await timed(client.list))[0])
        if back_at is None and serve.new_worker_started(killed):  # looked for between lists
            back_at = time.perf_counter()
    if back_at is None:
        serve.wait_worker_back(killed)
        back_at = time.perf_counter()
    return {
        "killed_pid": killed,
        "expected": expected,
        "count": len(first),
        "complete": len(first) == expected,
        "first_list_ms": round(first_ms, 2),
        "worker_still_down_after_first_list": down,
        "then": summary_ms(samples),
        "new_worker_after_s": round(back_at - killed_at, 2),
    }
