"""A child killed with SIGKILL comes back, and the backend works again."""

from __future__ import annotations

import os
import signal

import pytest

from tests.support.backend_checks import assert_backend_works
from tests.support.serve_process import ServeProcess, alive, wait_until


@pytest.mark.parametrize("child", ["worker", "redis", "temporal", "demo-model"])
def test_killed_child_is_restarted(serve: ServeProcess, child: str) -> None:
    serve.start()
    before = serve.child_pids()
    os.kill(before[child], signal.SIGKILL)

    def restarted() -> int | None:
        pid = serve.child_pids().get(child)
        return pid if pid and pid != before[child] and alive(pid) else None

    new_pid = wait_until(restarted, timeout=30, what=f"{child} to be restarted")
    assert alive(new_pid)
    # The other children were left alone.
    for name, pid in before.items():
        if name != child:
            assert serve.child_pids()[name] == pid
    assert_backend_works(serve)
    log = (serve.data_dir / "logs" / "supervisor.log").read_text()
    assert f"{child} (pid {before[child]}) was killed by SIGKILL" in log
