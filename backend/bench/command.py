"""``durachat bench``: run the comparison, print a table (or ``--json``), progress on stderr."""

from __future__ import annotations

import asyncio
import json
import sys

from backend.bench.comparison import BenchOptions, run_bench
from backend.bench.report import summary


def run_bench_command(options: BenchOptions, as_json: bool) -> int:
    def progress(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    try:
        result = asyncio.run(run_bench(options, progress))
    except RuntimeError as exc:  # a part of the backend that would not start, said plainly
        print(f"durachat bench: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if as_json else summary(result), flush=True)
    return 0
