"""The processes a fault kills: ``durachat serve`` or the window, started as a user would.

A host owns one data dir across restarts. ``start`` returns once the backend is
ready; ``log_text`` is where its supervisor logs (serve: logs/supervisor.log, the
window: logs/window.log), which is how a restarted child's readiness is seen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psutil

from tests.support.serve_process import alive, child_env, durachat_argv, wait_until

HostKind = Literal["serve", "window"]
READY_MARK = {"serve": "backend ready:", "window": "backend ready (started by this window)"}


@dataclass
class Host:
    kind: HostKind
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _out: Path | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        name = "supervisor.log" if self.kind == "serve" else "window.log"
        return self.data_dir / "logs" / name

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = 60) -> float:
        """Start it and wait until the backend is ready; returns when (wall clock, as the
        events' ``ts``)."""
        argv = [*durachat_argv(), "--data-dir", str(self.data_dir)]
        if self.kind == "serve":
            argv.insert(len(durachat_argv()), "serve")
        ready_before = self.log_text().count(READY_MARK[self.kind])
        self._out = self.data_dir.parent / f"{self.data_dir.name}-{self.kind}-{self.starts}.out"
        with open(self._out, "wb") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env(QT_QPA_PLATFORM="offscreen"),
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while self.log_text().count(READY_MARK[self.kind]) <= ready_before:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited {self.proc.returncode}: {self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.kind} not ready in {timeout} s: {self.output()}")
            time.sleep(0.02)
        return time.time()

    def output(self) -> str:
        return self._out.read_text(errors="replace")[-3000:] if self._out else ""

    def runtime(self) -> dict:
        return json.loads((self.data_dir / "runtime.json").read_text())

    def child_pid(self, name: str) -> int:
        return int(self.runtime()["children"][name]["pid"])

    def kill(self) -> list[int]:
        """SIGKILL the host process; returns its children's pids (they die with it)."""
        assert self.proc is not None
        children = [c.pid for c in psutil.Process(self.proc.pid).children()]
        self.proc.kill()
        self.proc.wait(10)
        return children

    def wait_children_gone(self, pids: list[int], timeout: float = 10) -> None:
        wait_until(lambda: not any(alive(p) for p in pids), timeout, what="orphans to die")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        children = [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def wait_child_ready(self, name: str, old_pid: int, timeout: float = 60) -> float:
        """After a child was killed: wait for the supervisor to report its successor ready."""

        def successor_ready() -> bool:
            try:
                pid = self.child_pid(name)
            except (OSError, KeyError, ValueError):
                return False
            return pid != old_pid and f"{name} is ready (pid {pid})" in self.log_text()

        wait_until(successor_ready, timeout, interval=0.01, what=f"{name} restarted")
        return time.time()
