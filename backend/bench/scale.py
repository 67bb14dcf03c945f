"""The scale benchmark: 10,000 conversations, a killed worker, 1,000 turns, idle Redis.

    python -m backend.bench.scale [--json] [--conversations N] [--turns N] ...
    durachat bench --scale [--json]

In a temporary data dir it
1. builds N conversations through the store's own ``bulk_import`` (made-up text of
   varied words, a tool call every few turns);
2. starts ``durachat serve`` there and times, through the client API, ``list``,
   searches, the newest conversation's last 50 turns, and ``durachat list --json``
   as a process;
3. SIGKILLs the worker and lists at once: every conversation must be there;
4. holds one conversation of ``--turns`` turns with ~2 KB replies through the real
   workflow and the demo model: time to first token early and late (and the same
   inputs sent to the demo model directly), and every workflow run's history size;
5. reads Redis's memory, and runs ``--redis-conversations`` one-turn conversations
   to see what each leaves in Redis once its stream has expired (extrapolated to
   10,000, and printed as an extrapolation);
6. stops the backend with SIGTERM and checks that no process of it is left.
Every figure is printed beside its target (issue 12); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from backend.bench import scale_direct, scale_reads, scale_redis, scale_turns
from backend.bench.machine import machine_description
from backend.bench.scale_backend import Serve
from backend.bench.scale_build import Built, build
from backend.bench.scale_data import DataShape
from backend.bench.scale_report import checks, table
from backend.client.api import DuraChatClient
from backend.client.errors import DuraChatError
from backend.local.paths import DataDir


@dataclass(frozen=True)
class ScaleOptions:
    conversations: int = 10_000
    messages_per_conversation: int = 20
    turns: int = 1_000
    reply_bytes: int = 2_048
    redis_conversations: int = 300
    pause_s: float = 0.05
    keep: bool = False


# (option, least value, what it sets): each a whole number, its default ScaleOptions'.
_COUNTS = [
    ("--conversations", 1, "conversations to build"),
    ("--messages-per-conversation", 2, "messages in each, user messages and replies"),
    ("--turns", 1, "turns of the long conversation"),
    ("--reply-bytes", 1, "bytes of each of its replies"),
    ("--redis-conversations", 1, "one-turn conversations run to see what one leaves in Redis"),
]


def _parser() -> argparse.ArgumentParser:
    defaults = ScaleOptions()
    p = argparse.ArgumentParser(
        prog="python -m backend.bench.scale", description=__doc__.splitlines()[0]
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    for option, least, what in _COUNTS:
        default = getattr(defaults, option[2:].replace("-", "_"))
        p.add_argument(option, type=_at_least(least), default=default, metavar="N",
                       help=f"{what} (default {default:,})")  # fmt: skip
    p.add_argument("--pause", type=_seconds, default=defaults.pause_s, metavar="S",
                   dest="pause_s", help="seconds before each prompt of the long conversation "
                   f"(default {defaults.pause_s:g})")  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    return p


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(
                f"needs a whole number of at least {low}, got {text!r}"
            )
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"needs seconds from 0 to 60, got {text!r}")
    return value


def _progress(message: str) -> None:
    print(f"scale bench: {message}", file=sys.stderr, flush=True)


async def _reads(client: DuraChatClient, data_dir: Path, built: Built) -> dict[str, Any]:
    _progress("timing list, search, history and `durachat list --json`")
    listed = await client.list()
    newest = listed[0].conversation_id
    return {
        "list": await scale_reads.measure_list(client),
        "search": await scale_reads.measure_searches(client, built),
        "history": await scale_reads.measure_history(client, newest),
        "cli_list": scale_reads.measure_cli_list(data_dir),
    }


async def _direct(client: DuraChatClient, data_dir: Path, figures: dict[str, Any]) -> Any:
    """The same early and late inputs sent to the demo model directly (the floor)."""
    if client.info.demo_model is None:
        return None
    _progress("the same early and late turns' inputs sent to the demo model directly")
    n, e = figures["turns"], figures["edge_turns"]
    early, late = list(range(1, e + 1)), list(range(n - e + 1, n + 1))
    return await scale_direct.direct_ttft(
        client.info.demo_model, data_dir, figures["conversation_id"], early, late
    )


async def _long_conversation(
    client: DuraChatClient, data_dir: Path, o: ScaleOptions
) -> dict[str, Any]:
    _progress("a warm-up turn in a conversation of its own (not measured)")
    await scale_turns.one_turn(client, "Hello! [demo tokens=20 tps=0]", None)
    _progress(f"{o.turns:,} turns of one conversation, ~{o.reply_bytes:,}-byte replies")
    long = await scale_turns.run_long_conversation(
        client, o.turns, o.reply_bytes, o.pause_s, _progress
    )
    figures = scale_turns.turn_figures(long)
    figures["pause_s"] = o.pause_s
    figures["runs"] = await scale_turns.workflow_runs(client, long.conversation_id)
    figures["direct"] = await _direct(client, data_dir, figures)
    figures["history"] = await scale_reads.measure_history(client, long.conversation_id)
    return figures


async def _redis(
    client: DuraChatClient, redis: Redis, o: ScaleOptions, at_start: int, long: dict[str, Any]
) -> dict[str, Any]:
    after_long = await scale_redis.used_memory(redis)
    long_keys = await scale_redis.conversation_keys(redis, long["conversation_id"])
    _progress(f"{o.redis_conversations} one-turn conversations, for Redis's idle residue")
    idle = await scale_redis.measure_idle(
        client, redis, o.redis_conversations, long["reply_tokens"], at_start, _progress
    )
    return {
        "at_start": at_start,
        "after_long_conversation": after_long,
        "long_conversation_keys": long_keys,
        "idle": idle,
    }


async def _measure(o: ScaleOptions, data_dir: Path, serve: Serve, built: Built) -> dict[str, Any]:
    client = await DuraChatClient.connect(DataDir(data_dir))
    redis = scale_redis.connect(data_dir)
    try:
        # Before any turn: the built conversations are in the store only.
        at_start = await scale_redis.used_memory(redis)
        out: dict[str, Any] = {"reads": await _reads(client, data_dir, built)}
        _progress("SIGKILL of the worker, then list")
        out["after_worker_kill"] = await scale_reads.list_after_worker_kill(client, serve)
        out["long_conversation"] = await _long_conversation(client, data_dir, o)
        out["redis"] = await _redis(client, redis, o, at_start, out["long_conversation"])
        return out
    finally:
        await redis.aclose()
        await client.close()


async def _run(o: ScaleOptions, root: Path) -> dict[str, Any]:
    data_dir = root / "data"
    shape = DataShape(o.conversations, o.messages_per_conversation)
    _progress(f"building {shape.conversations:,} conversations, {shape.messages:,} messages")
    built = await asyncio.to_thread(build, data_dir, shape, _progress)
    serve = Serve(data_dir, root / "serve.stderr")
    result: dict[str, Any] = {"build": asdict(built)}
    try:
        _progress("starting durachat serve on that data dir")
        serve.start()
        result["backend"] = {"argv": serve.argv, "ready_s": round(serve.ready_s, 2)}
        result |= await _measure(o, data_dir, serve, built)
    finally:
        _progress("stopping durachat serve (SIGTERM)")
        result["stop"] = asdict(serve.stop())
    return result


def _command() -> str:
    """The command line this run was started with, as a user would type it."""
    prog = Path(sys.argv[0]).name
    heads = {
        "scale.py": ["python", "-m", "backend.bench.scale"],
        "__main__.py": ["python", "-m", "backend"],
    }
    return shlex.join([*heads.get(prog, [prog]), *sys.argv[1:]])


def run(o: ScaleOptions) -> dict[str, Any]:
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="durachat-scale-"))
    try:
        result = asyncio.run(_run(o, root))
    finally:
        if o.keep:
            _progress(f"kept the data dir: {root / 'data'}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    result = {
        "command": _command(),
        "machine": machine_description(),
        "options": asdict(o),
        "data_dir": str(root / "data"),
        "kept": o.keep,
        **result,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    result["checks"] = checks(result)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    options = ScaleOptions(**{k: v for k, v in vars(args).items() if k != "json"})
    try:
        result = run(options)
    except (RuntimeError, DuraChatError, OSError) as exc:
        print(f"scale bench: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else table(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
