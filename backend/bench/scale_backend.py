"""``durachat serve`` on the benchmark's data dir, as a user starts it, and its end.

The benchmark needs more of it than ``child_process.ready_process`` gives: the
worker among its children (to SIGKILL it), and at the end proof that stopping it
left no process of its behind.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

READY_TIMEOUT_S = 180
STOP_TIMEOUT_S = 30
WORKER_MARK = "backend.worker"  # in the worker's command line


def serve_argv(data_dir: Path) -> list[str]:
    # Unpaced demo model: the turns are timed to their first token, and a paced
    # model would only make the thousand turns take longer.
    return [
        sys.executable,
        "-m",
        "backend",
        "serve",
        "--data-dir",
        str(data_dir),
        "--demo-tokens-per-second",
        "0",
    ]


@dataclass
class Stopped:
    exit_code: int | None
    seconds: float
    left_running: list[str] = field(default_factory=list)  # "pid cmdline" of survivors


class Serve:
    def __init__(self, data_dir: Path, stderr_path: Path) -> None:
        self.data_dir = data_dir
        self.argv = serve_argv(data_dir)
        self._stderr_path = stderr_path
        self._stderr: IO[str] | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.ready_s = 0.0
        self._seen: dict[int, psutil.Process] = {}  # every descendant ever seen

    def start(self) -> None:
        """Start serve and wait for its JSON ready line."""
        started = time.perf_counter()
        self._stderr = open(self._stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        line = self._ready_line()
        try:
            ready = json.loads(line)
        except ValueError:
            ready = None
        if not isinstance(ready, dict) or ready.get("event") != "ready":
            raise RuntimeError(f"durachat serve did not start: {line.strip()!r}; {self._tail()}")
        self.ready_s = time.perf_counter() - started
        self.descendants()

    def _ready_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(READY_TIMEOUT_S):
            raise RuntimeError(f"durachat serve was not ready within {READY_TIMEOUT_S} s")
        return self.proc.stdout.readline()

    def _tail(self) -> str:
        if self._stderr is not None:
            self._stderr.flush()
        lines = self._stderr_path.read_text(errors="replace").strip().splitlines()
        return "its stderr ends: " + " | ".join(lines[-5:]) if lines else "no stderr"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def descendants(self) -> list[psutil.Process]:
        """Serve's process tree now (and remembered, to check at the end)."""
        try:
            found = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            found = []
        for proc in found:
            self._seen.setdefault(proc.pid, proc)
        return found

    def worker(self) -> psutil.Process | None:
        for proc in self.descendants():
            try:
                if any(WORKER_MARK in part for part in proc.cmdline()):
                    return proc
            except psutil.Error:
                continue
        return None

    def kill_worker(self) -> int:
        worker = self.worker()
        if worker is None:
            raise RuntimeError("found no worker process among durachat serve's children")
        worker.send_signal(signal.SIGKILL)
        return worker.pid

    def new_worker_started(self, killed_pid: int) -> bool:
        """Whether the supervisor has started a worker since ``killed_pid`` was killed."""
        worker = self.worker()
        return worker is not None and worker.pid != killed_pid

    def wait_worker_back(self, killed_pid: int, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while not self.new_worker_started(killed_pid):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the supervisor started no new worker within {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> Stopped:
        """SIGTERM, wait for serve, then check that every process it ever had is gone."""
        if self.proc is None:
            return Stopped(None, 0.0)
        self.descendants()
        started = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.perf_counter() - started
        left = self._survivors()
        if self._stderr is not None:
            self._stderr.close()
        return Stopped(code, seconds, left)

    def _survivors(self) -> list[str]:
        """Processes of serve's still running after the stop: named, then killed (they
        are the benchmark's own), so the benchmark never leaves one behind."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            left = [f"{self.proc.pid} durachat serve (did not stop within {STOP_TIMEOUT_S} s)"]
        else:
            left = []
        # psutil.Process remembers each one's start time: a reused pid is not ours.
        _gone, alive = psutil.wait_procs([p for p in self._seen.values() if _running(p)], 5)
        left += [f"{p.pid} {' '.join(_cmdline(p))[:120]}" for p in alive]
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        return left


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return ["?"]
