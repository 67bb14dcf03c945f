"""``durachat`` (the window) as a real process: SIGTERM, a second launch, a running serve."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import psutil

from tests.support.serve_process import ServeProcess, alive, child_env, durachat_argv, wait_until


def launch_window(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*durachat_argv(), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(QT_QPA_PLATFORM="offscreen"),
    )


def window_log(data_dir: Path) -> str:
    path = data_dir / "logs" / "window.log"
    return path.read_text() if path.exists() else ""


def test_sigterm_stops_the_window_and_its_backend_cleanly(data_dir: Path) -> None:
    window = launch_window(data_dir)
    try:
        wait_until(lambda: "backend ready (started by this window)" in window_log(data_dir), 60)
        children = json.loads((data_dir / "runtime.json").read_text())["children"]
        assert set(children) == {"temporal", "redis", "worker", "demo-model"}

        # A second launch on the same data dir brings up the running window and exits.
        second = subprocess.run(
            [*durachat_argv(), "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=30,
            env=child_env(QT_QPA_PLATFORM="offscreen"),
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        assert window.poll() is None

        window.send_signal(signal.SIGTERM)
        assert window.wait(20) == 0
        output = window.stdout.read() if window.stdout else ""
        assert "Traceback" not in output
        assert not (data_dir / "runtime.json").exists()
        wait_until(lambda: not any(alive(c["pid"]) for c in children.values()), 10, what="children")
    finally:
        if window.poll() is None:
            for proc in psutil.Process(window.pid).children(recursive=True):
                proc.kill()
            window.kill()
            window.wait(10)


def test_the_window_uses_a_backend_that_serve_already_runs(backend: ServeProcess) -> None:
    window = launch_window(backend.data_dir)
    try:
        wait_until(lambda: "backend ready (already running)" in window_log(backend.data_dir), 30)
        window.send_signal(signal.SIGTERM)
        assert window.wait(20) == 0
        # Closing the window leaves the user's `durachat serve` running.
        assert backend.proc is not None and backend.proc.poll() is None
        assert (backend.data_dir / "runtime.json").exists()
    finally:
        if window.poll() is None:
            window.kill()
            window.wait(10)
