"""Cold start of ``durachat serve`` (command to ready line) and idle memory per child.

    python -m backend.bench.startup --runs 5 [--json] [--bundle dist/durachat/durachat]

Each run starts ``durachat serve`` as a user would, in a fresh data dir, waits
for the ready line, lets the backend idle, reads each child's resident memory,
then stops it with SIGTERM. With ``--bundle``, each run also starts the bundle's
executable the same way, right after the source install, so both meet the same
machine state.
"""

from __future__ import annotations

import argparse
import json
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

from backend.bench.machine import machine_description

IDLE_SECONDS = 3.0


SOURCE_COMMAND = (sys.executable, "-m", "backend")


def measure_once(
    data_dir: Path, command: Sequence[str] = SOURCE_COMMAND
) -> tuple[float, dict[str, int]]:
    """Seconds to the ready line, and RSS bytes of each child once idle."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*command, "serve", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(120):
            raise RuntimeError("serve was not ready within 120 s")
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        if '"ready"' not in line:
            raise RuntimeError(f"serve did not start: {line!r}")
        time.sleep(IDLE_SECONDS)
        runtime = json.loads((data_dir / "runtime.json").read_text())
        rss = {
            name: psutil.Process(child["pid"]).memory_info().rss
            for name, child in runtime["children"].items()
        }
        return elapsed, rss
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--bundle", type=Path, metavar="EXE", help="also time this bundle executable"
    )
    args = parser.parse_args(argv)

    times: list[float] = []
    bundle_times: list[float] = []
    rss_runs: list[dict[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="durachat-bench-") as tmp:
        for i in range(args.runs):
            elapsed, rss = measure_once(Path(tmp) / f"run{i}")
            times.append(elapsed)
            rss_runs.append(rss)
            if args.bundle:
                elapsed, _ = measure_once(Path(tmp) / f"bundle{i}", [str(args.bundle)])
                bundle_times.append(elapsed)
    rss_mb = {name: statistics.median(r[name] for r in rss_runs) / 2**20 for name in rss_runs[0]}
    result = {
        "machine": machine_description(),
        "runs": args.runs,
        "cold_start_s": {"median": statistics.median(times), "max": max(times), "all": times},
        "idle_rss_mb": rss_mb,
        "idle_rss_total_mb": sum(rss_mb.values()),
    }
    if bundle_times:
        result["bundle_cold_start_s"] = {
            "median": statistics.median(bundle_times),
            "max": max(bundle_times),
            "all": bundle_times,
        }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"machine: {result['machine']}")
    print(
        f"cold start, command to ready line: median {statistics.median(times):.2f} s, "
        f"worst {max(times):.2f} s over {args.runs} runs"
    )
    if bundle_times:
        print(
            f"cold start of the bundle, same runs: median {statistics.median(bundle_times):.2f} s, "
            f"worst {max(bundle_times):.2f} s"
        )
    for name, mb in rss_mb.items():
        print(f"idle resident memory, {name}: {mb:.0f} MB")
    print(f"idle resident memory, all children: {result['idle_rss_total_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
