"""A child that can fail by chance at start is started again; one that always fails
is reported after its tries, with its last words."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from backend.supervisor.child import ChildExited, ChildProcess, ChildSpec

# Exits with a panic line on the first start (it leaves a mark), serves on the next.
FLAKY = (
    "import pathlib, sys, time\n"
    "mark = pathlib.Path(sys.argv[1])\n"
    "if not mark.exists():\n"
    "    mark.write_text('tried')\n"
    "    print('panic: listener was nil', flush=True)\n"
    "    sys.exit(2)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)
ALWAYS_FAILS = "import sys; print('panic: always', flush=True); sys.exit(3)"


async def _ready_line(child: ChildProcess) -> None:
    await child.wait_for_line(lambda line: line == "ready")


def _spec(code: str, *args: str, tries: int) -> ChildSpec:
    return ChildSpec(
        name="flaky",
        argv=[sys.executable, "-c", code, *args],
        probe=_ready_line,
        ready_timeout=20,
        start_tries=tries,
    )


async def _start(spec: ChildSpec, log_dir: Path) -> bool:
    """Whether the child served once started (it is stopped again)."""
    child = ChildProcess(spec, log_dir)
    try:
        await child.start()
        return child.ready
    finally:
        await child.stop()


def test_a_child_that_exits_at_its_first_start_is_started_again(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    served = asyncio.run(asyncio.wait_for(_start(_spec(FLAKY, str(mark), tries=3), tmp_path), 30))
    assert served
    log = (tmp_path / "flaky.log").read_text()
    assert log.count("--- starting:") == 2
    assert "panic: listener was nil" in log and "ready" in log


def test_without_tries_the_first_exit_fails_the_start(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    with pytest.raises(ChildExited) as failed:
        asyncio.run(asyncio.wait_for(_start(_spec(FLAKY, str(mark), tries=1), tmp_path), 30))
    assert "flaky failed with exit status 2" in str(failed.value)
    assert "panic: listener was nil" in str(failed.value)


def test_a_child_that_always_exits_fails_after_its_tries(tmp_path: Path) -> None:
    with pytest.raises(ChildExited) as failed:
        asyncio.run(asyncio.wait_for(_start(_spec(ALWAYS_FAILS, tries=3), tmp_path), 30))
    assert "flaky failed with exit status 3" in str(failed.value)
    assert (tmp_path / "flaky.log").read_text().count("--- starting:") == 3
