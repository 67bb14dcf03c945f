"""A child's ready line counts even when it comes before the supervisor waits for it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from backend.supervisor.child import ChildProcess, ChildSpec


def test_a_ready_line_printed_before_the_probe_waits_is_seen(tmp_path: Path) -> None:
    async def late_probe(child: ChildProcess) -> None:
        # Wait until the output pump has taken the line, so the probe really comes late.
        while "ready" not in child._lines:
            await asyncio.sleep(0.01)
        await child.wait_for_line(lambda line: line == "ready")

    spec = ChildSpec(
        name="fast",
        argv=[sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
        probe=late_probe,
        ready_timeout=10,
    )

    async def scenario() -> bool:
        child = ChildProcess(spec, tmp_path)
        try:
            await child.start()
            return child.ready
        finally:
            await child.stop()

    assert asyncio.run(asyncio.wait_for(scenario(), 20))
