"""``durachat bench``: the same prompts through three streaming paths, interleaved.

1. direct: the OpenAI client streaming straight from the demo model (the floor);
2. durachat: ``send`` through the conversation workflow, the streaming model and
   Redis to the subscriber;
3. workflow_streams: the same agent through ``temporalio.openai_agents`` with
   ``Runner.run_streamed`` and its Workflow Streams topic (100 ms batching).

It starts its own backend (``durachat serve`` in a temporary data dir, the demo
model unpaced, so the cold start is measured on the way) and a worker of its own
for the Workflow Streams path, since one process can hold only one agents plugin.
Every prompt goes to an existing conversation; each round asks every path in a
rotating order, so drift in the machine's load falls on all paths alike.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from backend.bench.child_process import ready_process
from backend.bench.direct_path import DirectPath
from backend.bench.durachat_path import DuraChatPath
from backend.bench.figures import PathRecords, ReplyRecord
from backend.bench.machine import machine_description
from backend.bench.workflow_streams_path import WorkflowStreamsPath
from backend.client.api import DuraChatClient
from backend.local.runtime_info import RuntimeInfo

PACED_TOKENS_PER_SECOND = 50
# A fresh conversation for every path this often, so long runs stay far from the
# conversation size limit (and every path pays for the same history length).
ROUNDS_PER_CONVERSATION = 10


class StreamingPath(Protocol):
    name: str

    async def ask(self, prompt: str, on_text: Callable[[str], None]) -> None: ...

    async def new_conversation(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class BenchOptions:
    runs: int = 20
    tokens: int = 200  # reply length for time to first token and full reply
    paced_tokens: int = 50  # reply length at 50 tokens per second
    stream_tokens: int = 5000  # reply length for tokens per second carried
    # Every prompt goes out this long after the last reply ended, as a person's (or a
    # script starting `durachat send`) would. In a loop that sends within a few
    # milliseconds of the query that closes a turn, Temporal came to hand the worker
    # every later workflow task ~30 ms late (docs/performance.md).
    pause_s: float = 0.2


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


@asynccontextmanager
async def _backend(data_dir: Path) -> AsyncIterator[tuple[int, RuntimeInfo, float]]:
    """``durachat serve`` as a user starts it: its pid, runtime info and cold start."""
    started = time.perf_counter()
    argv = [sys.executable, "-m", "backend", "serve", "--data-dir", str(data_dir),
            "--demo-tokens-per-second", "0"]  # fmt: skip
    async with ready_process(argv, "durachat serve") as serve:
        cold_start_s = time.perf_counter() - started
        info = RuntimeInfo.read(data_dir / "runtime.json")
        if info is None or info.demo_model is None:
            raise RuntimeError("the backend wrote no usable runtime.json")
        yield serve.pid, info, cold_start_s


class _Bench:
    def __init__(self, options: BenchOptions, info: RuntimeInfo, paths: list[StreamingPath],
                 worker_pids: dict[str, int | None]) -> None:  # fmt: skip
        self.options = options
        self.paths = paths
        self.records = {path.name: PathRecords() for path in paths}
        self._worker_pids = worker_pids
        self._temporal_pid = info.children["temporal"].pid if "temporal" in info.children else None

    async def ask(self, path: StreamingPath, prompt: str, tokens: int) -> ReplyRecord:
        await asyncio.sleep(self.options.pause_s)
        worker = self._worker_pids.get(path.name)
        cpu_before = _cpu_seconds(worker), _cpu_seconds(self._temporal_pid)
        record = ReplyRecord(expected_tokens=tokens)
        await path.ask(prompt, record.on_text)
        figures = self.records[path.name]
        figures.worker_cpu_s += _cpu_seconds(worker) - cpu_before[0]
        figures.server_cpu_s += _cpu_seconds(self._temporal_pid) - cpu_before[1]
        figures.tokens_carried += len(record.tokens)
        return record

    async def fresh_conversations(self) -> None:
        for path in self.paths:
            await path.new_conversation()
            await path.ask(_prompt(3), lambda _text: None)  # now it exists: warm and waiting

    async def run(self, progress: Callable[[str], None]) -> None:
        o = self.options
        for round_no in range(o.runs):
            if round_no % ROUNDS_PER_CONVERSATION == 0:
                await self.fresh_conversations()
            for path in _rotated(self.paths, round_no):
                rec = self.records[path.name]
                rec.unpaced.append(await self.ask(path, _prompt(o.tokens), o.tokens))
                paced = _prompt(o.paced_tokens, PACED_TOKENS_PER_SECOND)
                rec.paced.append(await self.ask(path, paced, o.paced_tokens))
            progress(f"round {round_no + 1}/{o.runs}")
        await self.fresh_conversations()
        for path in self.paths:
            record = await self.ask(path, _prompt(o.stream_tokens), o.stream_tokens)
            self.records[path.name].stream.append(record)
            progress(f"{o.stream_tokens} tokens through {path.name}")


def _prompt(tokens: int, tokens_per_second: float = 0) -> str:
    return f"[demo tokens={tokens} tps={tokens_per_second:g} stamp=1]"


def _rotated(paths: list[StreamingPath], by: int) -> Iterator[StreamingPath]:
    for i in range(len(paths)):
        yield paths[(i + by) % len(paths)]


def _resident_memory_mb(pids: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            out[name] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        except psutil.Error:
            continue
    return out


async def run_bench(
    options: BenchOptions, progress: Callable[[str], None] = lambda _m: None
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="durachat-bench-") as tmp:
        async with _backend(Path(tmp) / "data") as (serve_pid, info, cold_start_s):
            progress(f"backend ready in {cold_start_s:.2f} s")
            assert info.demo_model is not None
            durachat = DuraChatPath(await DuraChatClient.connect_to(info))
            async with WorkflowStreamsPath.running(info.temporal, info.demo_model) as streams:
                paths: list[StreamingPath] = [DirectPath(info.demo_model), durachat, streams]
                bench = _Bench(
                    options,
                    info,
                    paths,
                    {"durachat": info.children["worker"].pid, "workflow_streams": streams.pid},
                )
                try:
                    await bench.run(progress)
                    pids = {"serve": serve_pid, "workflow_streams_worker": streams.pid}
                    pids |= {name: child.pid for name, child in info.children.items()}
                    memory = _resident_memory_mb(pids)
                finally:
                    for path in paths:
                        if path is not streams:
                            await path.close()
    return {
        "machine": machine_description(),
        "options": {
            "runs": options.runs,
            "tokens": options.tokens,
            "paced_tokens": options.paced_tokens,
            "paced_tokens_per_s": PACED_TOKENS_PER_SECOND,
            "stream_tokens": options.stream_tokens,
            "pause_s": options.pause_s,
        },
        "paths": {
            name: rec.figures(relayed=name != "direct") for name, rec in bench.records.items()
        },
        "cold_start_s": round(cold_start_s, 2),
        "resident_memory_mb": memory,
    }
