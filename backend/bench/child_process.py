"""A process the benchmark starts and waits for: its JSON ready line, then a clean stop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15


@asynccontextmanager
async def ready_process(argv: list[str], what: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``argv``, wait for ``{"event": "ready", ...}`` on its stdout, and stop it
    (SIGTERM, then SIGKILL after a grace period) when the block ends."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT_S)
        except TimeoutError:
            raise RuntimeError(f"{what} was not ready within {READY_TIMEOUT_S} s") from None
        try:
            ready = json.loads(line)
        except ValueError:
            ready = None
        if not isinstance(ready, dict) or ready.get("event") != "ready":
            said = line.decode(errors="replace").strip()
            raise RuntimeError(f"{what} did not start (it printed {said!r})")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
