"""Setting up MCP servers for tests: the test server (``tests/support/mcp_server.py``)
as a stdio command or a streamable HTTP process, mcp.json, and the CLI as a user runs it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from tests.support.serve_process import REPO_ROOT, ServeProcess, child_env, durachat_argv


def stdio_server(marker_dir: Path, *extra: str, timeout: float | None = None) -> dict[str, Any]:
    """An mcpServers entry that starts the test server over stdio."""
    entry: dict[str, Any] = {
        "command": sys.executable,
        "args": [
            "-m",
            "tests.support.mcp_server",
            "--transport",
            "stdio",
            "--marker-dir",
            str(marker_dir),
            *extra,
        ],
        "env": {"PYTHONPATH": str(REPO_ROOT)},
    }
    if timeout is not None:
        entry["timeout"] = timeout
    return entry


class HttpServer:
    """The test server over streamable HTTP, as its own process."""

    def __init__(self, marker_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.mcp_server",
                "--transport",
                "http",
                "--port",
                "0",
                "--marker-dir",
                str(marker_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env=child_env(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the server prints READY once it listens
        if not line.startswith("READY "):
            self.close()
            raise AssertionError(f"the HTTP test server did not start: {line!r}")
        self.url = line.split()[1]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def write_mcp_json(data_dir: Path, servers: dict[str, Any]) -> Path:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def cli(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``durachat ARGS --data-dir D`` as a user runs it."""
    return subprocess.run(
        [*durachat_argv(), *args[:1], "--data-dir", str(data_dir), *args[1:]]
        if args[0] not in ("mcp", "tools") or len(args) == 1
        else [*durachat_argv(), *args[:2], "--data-dir", str(data_dir), *args[2:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        stdin=subprocess.DEVNULL,
    )


def cli_json(data_dir: Path, *args: str) -> Any:
    result = cli(data_dir, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def send_process(data_dir: Path, text: str, *extra: str) -> subprocess.Popen[str]:
    """``durachat send`` running on, for a test to read its stderr while it waits."""
    return subprocess.Popen(
        [*durachat_argv(), "send", "--data-dir", str(data_dir), *extra, text],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
    )


def kill_everything(sp: ServeProcess) -> None:
    """SIGKILL the backend and every process under it at once, as a power cut would."""
    assert sp.proc is not None
    root = psutil.Process(sp.proc.pid)
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)
    sp.proc.wait(10)
