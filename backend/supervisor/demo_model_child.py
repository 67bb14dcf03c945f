"""The demo model child: ``python -m backend.demo_model`` on a loopback port.

Always running, so the app works offline with no key and switching to the demo
in Settings needs no restart.
"""

from __future__ import annotations

import json
import socket

from backend.local.bundle import own_command
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK


def _is_ready_line(line: str) -> bool:
    try:
        return json.loads(line).get("event") == "ready"
    except (ValueError, AttributeError):
        return False


def listening_socket() -> socket.socket:
    """The demo model's socket, bound and listening in the supervisor for as long as it
    runs: its port is taken from the first moment (no other program can get it between
    choosing and binding), and a restarted demo model serves on the same one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Inherited by every accepted connection: paced tokens go out at once (no Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(128)
    return sock


def demo_model_spec(sock: socket.socket, tokens_per_second: float | None) -> ChildSpec:
    fd = sock.fileno()
    argv = [*own_command("demo-model", "backend.demo_model"), "--listen-fd", str(fd)]
    if tokens_per_second is not None:
        argv += ["--tokens-per-second", str(tokens_per_second)]

    async def probe(child: ChildProcess) -> None:
        await child.wait_for_line(_is_ready_line)

    return ChildSpec(
        name="demo-model",
        argv=argv,
        probe=probe,
        ready_timeout=60,
        stop_timeout=3,
        pass_fds=(fd,),
    )


def demo_base_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}/v1"
