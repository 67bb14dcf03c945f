"""``durachat serve`` as a user runs it: ready line, private files, loopback only, clean stop."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import redis

from backend.temporal_connect import TASK_QUEUE, connect
from backend.workflows.health import HealthWorkflow
from tests.support.backend_checks import assert_backend_works
from tests.support.serve_process import ServeProcess, alive, durachat_argv, wait_until


def test_ready_line_runtime_file_and_loopback_only(serve: ServeProcess, data_dir: Path) -> None:
    ready = serve.start()

    assert ready["event"] == "ready"
    assert ready["data_dir"] == str(data_dir)
    assert ready["temporal"].startswith("127.0.0.1:")
    assert ready["redis"] == str(data_dir / "redis" / "redis.sock")
    assert ready["temporal_ui"] is None

    runtime_file = data_dir / "runtime.json"
    assert stat.S_IMODE(runtime_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    runtime = serve.runtime()
    assert runtime["temporal"] == ready["temporal"]
    assert runtime["redis_socket"] == ready["redis"]
    assert set(runtime["children"]) == {"temporal", "redis", "worker", "demo-model"}
    password = runtime["redis_password"]
    assert password and password not in json.dumps(ready)

    for name, pid in serve.child_pids().items():
        proc = psutil.Process(pid)
        assert proc.ppid() == serve.pid, name
        # The Redis password is never on a command line (any local user can read those).
        assert password not in " ".join(proc.cmdline()), name
        listening = [c for c in proc.net_connections("inet") if c.status == psutil.CONN_LISTEN]
        for conn in listening:
            assert conn.laddr.ip == "127.0.0.1", f"{name} listens on {conn.laddr}"
    assert psutil.Process(serve.child_pids()["temporal"]).net_connections("inet")

    # Redis wants the password; with it, it answers.
    with (
        redis.Redis(unix_socket_path=ready["redis"]) as anonymous,
        pytest.raises(redis.AuthenticationError),
    ):
        anonymous.ping()
    with redis.Redis(unix_socket_path=ready["redis"], password=password) as r:
        assert r.ping()


def test_sigterm_stops_every_child_cleanly(serve: ServeProcess) -> None:
    serve.start()
    children = serve.child_pids()

    started = time.monotonic()
    code = serve.terminate(timeout=10)
    elapsed = time.monotonic() - started

    assert code == 0
    assert elapsed < 10
    err = serve.stderr()
    assert "Traceback" not in err and "Fatal Python error" not in err, err
    for name, pid in children.items():
        assert not alive(pid), f"{name} (pid {pid}) survived SIGTERM of serve"
    assert not (serve.data_dir / "runtime.json").exists()


def test_second_serve_on_same_data_dir_refuses(serve: ServeProcess, data_dir: Path) -> None:
    serve.start()
    second = subprocess.run(
        [*durachat_argv(), "serve", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=serve.env,
    )
    assert second.returncode == 3
    assert second.stdout == ""
    assert "already running" in second.stderr
    assert str(serve.pid) in second.stderr
    assert "Traceback" not in second.stderr
    # The first one is untouched.
    assert all(alive(pid) for pid in serve.child_pids().values())


def test_sigkill_of_serve_takes_children_down(serve: ServeProcess) -> None:
    serve.start()
    children = serve.child_pids()
    serve.kill()
    wait_until(
        lambda: not any(alive(pid) for pid in children.values()),
        timeout=5,
        what="children to die with their supervisor",
    )


def test_restart_after_crash_reaps_leftovers_and_is_ready(
    serve: ServeProcess, data_dir: Path
) -> None:
    serve.start()
    serve.kill()
    # A leftover from the crashed run: a real process recorded as one of its children
    # (PR_SET_PDEATHSIG already took the real ones; this stands for a platform without it).
    leftover = subprocess.Popen(["sleep", "300"])
    try:
        runtime = json.loads((data_dir / "runtime.json").read_text())
        runtime["children"]["worker"] = {
            "pid": leftover.pid,
            "create_time": psutil.Process(leftover.pid).create_time(),
            "argv0": "sleep",
        }
        (data_dir / "runtime.json").write_text(json.dumps(runtime))

        again = ServeProcess(data_dir)
        try:
            again.start()
            assert leftover.wait(timeout=5) == -9
            assert_backend_works(again)
        finally:
            again.close()
    finally:
        leftover.kill()
        leftover.wait()


def test_workflow_state_survives_restart(serve: ServeProcess, data_dir: Path) -> None:
    ready = serve.start()
    workflow_id = f"survivor-{time.time_ns()}"

    async def begin(address: str) -> None:
        client = await connect(address)
        handle = await client.start_workflow(
            HealthWorkflow.run, True, id=workflow_id, task_queue=TASK_QUEUE
        )
        await handle.signal(HealthWorkflow.ping)
        await handle.signal(HealthWorkflow.ping)
        assert await handle.query(HealthWorkflow.pings) == 2

    asyncio.run(begin(ready["temporal"]))
    assert serve.terminate() == 0

    again = ServeProcess(data_dir)
    try:
        ready2 = again.start()

        async def resume(address: str) -> str:
            client = await connect(address)
            handle = client.get_workflow_handle(workflow_id)
            assert await handle.query(HealthWorkflow.pings) == 2
            await handle.signal(HealthWorkflow.ping)
            await handle.signal(HealthWorkflow.release)
            return await handle.result()

        assert asyncio.run(resume(ready2["temporal"])) == "ok after 3 pings"
    finally:
        again.close()
