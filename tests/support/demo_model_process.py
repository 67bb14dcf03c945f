"""A demo model server of a test's own, as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.serve_process import child_env


@contextmanager
def demo_model(*args: str, **env: str) -> Iterator[str]:
    """Run ``python -m backend.demo_model``; yield its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.demo_model", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=child_env(**env),
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        yield ready["base_url"]
    finally:
        proc.terminate()
        proc.wait(10)
