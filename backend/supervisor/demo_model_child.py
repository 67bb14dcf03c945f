"""The demo model child: ``python -m backend.demo_model`` on a loopback port.

Always running, so the app works offline with no key and switching to the demo
in Settings needs no restart.
"""

from __future__ import annotations

import json
import sys

from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK


def _is_ready_line(line: str) -> bool:
    try:
        return json.loads(line).get("event") == "ready"
    except (ValueError, AttributeError):
        return False


def demo_model_spec(port: int, tokens_per_second: float | None) -> ChildSpec:
    argv = [sys.executable, "-m", "backend.demo_model", "--host", LOOPBACK, "--port", str(port)]
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
        # It could pick its own port (--port 0), but the worker is told the port before
        # it starts, and a restarted demo model must come back on the same one: so it
        # gets a number, and the owner check (port_owner.py) is the guard.
        ports=(port,),
    )


def demo_base_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}/v1"
