"""Running ``durachat serve`` as a real subprocess, the way a user would."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from backend.local.keys import ENV_VARS

REPO_ROOT = Path(__file__).resolve().parents[2]
# A keyring every process of a test run shares (a file outside any data dir): the
# supervisor makes the payload encryption key there and the worker and clients read it.
KEYRING_BACKEND = "tests.support.file_keyring.FileKeyring"


def durachat_argv() -> list[str]:
    script = Path(sys.executable).parent / "durachat"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backend"]


def child_env(**extra: str) -> dict[str, str]:
    """The environment every DuraChat process under test gets: the in-memory keyring,
    and none of the developer's own API keys (a test must never call a real provider)."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    # The repo root, so children can import tests.support.file_keyring.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHON_KEYRING_BACKEND"] = KEYRING_BACKEND
    env.update(extra)
    return env


@dataclass
class ServeProcess:
    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=child_env)
    # How to run durachat: the test run's own by default, or a bundle or an installed copy.
    command: list[str] = field(default_factory=durachat_argv)
    cwd: Path | None = None
    proc: subprocess.Popen[str] | None = None
    ready: dict | None = None

    def start(self, timeout: float = 60) -> dict:
        """Start serve and return its ready event; fail the test with serve's stderr if not."""
        self._stderr_path = (
            self.data_dir.parent / f"{self.data_dir.name}-serve-{time.time_ns()}.err"
        )
        self._stderr = open(self._stderr_path, "w")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            [*self.command, "serve", "--data-dir", str(self.data_dir), *self.args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )
        line = self._readline(timeout)
        if not line:
            code = self.proc.wait(timeout=10)
            raise AssertionError(f"serve exited {code} before ready:\n{self.stderr()}")
        self.ready = json.loads(line)
        return self.ready

    def _readline(self, timeout: float) -> str:
        assert self.proc and self.proc.stdout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.kill()
            raise AssertionError(
                f"serve not ready within {timeout} s:\n{self.stderr()}\n{self.log_tails()}"
            )
        return self.proc.stdout.readline()

    def log_tails(self, lines: int = 15) -> str:
        """The end of each log in the data dir: why a start hung."""
        tails = []
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(tails)

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self._stderr_path.read_text()

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def runtime(self) -> dict:
        return json.loads((self.data_dir / "runtime.json").read_text())

    def child_pids(self) -> dict[str, int]:
        return {name: c["pid"] for name, c in self.runtime()["children"].items()}

    def terminate(self, timeout: float = 10) -> int:
        assert self.proc
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        assert self.proc
        self.proc.kill()
        self.proc.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.proc
        code = self.proc.wait(timeout)
        self._stderr.close()
        return code

    def close(self) -> None:
        """Test teardown: whatever state the test left, stop serve and its children."""
        if self.proc and self.proc.poll() is None:
            try:
                self.terminate(15)
            except subprocess.TimeoutExpired:
                self.kill()
        stderr = getattr(self, "_stderr", None)
        if stderr and not stderr.closed:
            stderr.close()


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
