"""The Temporal dev server child: ``temporal server start-dev`` on loopback, state on disk.

Besides gRPC (all DuraChat uses), the dev server always opens an HTTP API and a
metrics endpoint on loopback; neither can be turned off in this version (a port of
0 means "pick one"). A web page can reach loopback, so:

- The HTTP API refuses every request by its Host header
  (``frontend.httpAllowedHosts``): a browser always sends the name it connected
  to, and the one allowed is a reserved name no browser can reach. That stops
  requests a page sends without a CORS preflight (a ``text/plain`` POST) and DNS
  rebinding alike. The Nexus routes on the same port are outside that check; they
  dispatch only to Nexus endpoints and callbacks, of which DuraChat has none.
- The metrics endpoint serves only ``/metrics``, read-only counters without any
  conversation's content.
"""

from __future__ import annotations

import json

from backend.local.paths import DataDir
from backend.supervisor.binaries import find_temporal
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK

# ".invalid" never resolves (RFC 2606), so no browser can send it as its Host.
HTTP_API_ALLOWED_HOST = "http-api-disabled.invalid"


def _dynamic_config(key: str, value: object) -> list[str]:
    return ["--dynamic-config-value", f"{key}={json.dumps(value)}"]


def temporal_spec(
    data: DataDir, port: int, ui_port: int | None, http_port: int, metrics_port: int
) -> ChildSpec:
    argv = [
        str(find_temporal()),
        "server",
        "start-dev",
        "--ip",
        LOOPBACK,
        "--port",
        str(port),
        # Chosen here rather than by the server, so the supervisor can check who
        # listens on them (port_owner.py).
        "--http-port",
        str(http_port),
        "--metrics-port",
        str(metrics_port),
        *_dynamic_config("frontend.httpAllowedHosts", [HTTP_API_ALLOWED_HOST]),
        "--db-filename",
        str(data.temporal_db),
        "--log-level",
        "warn",
        # Every signal, workflow task and activity result is a SQLite commit; with
        # the default rollback journal each one waits for an fsync (6-11 ms here,
        # several per turn). WAL with synchronous=NORMAL commits without waiting and
        # loses nothing when any process is killed; only an OS crash or power cut
        # can cost the last moments of writes (never the database), the same bargain
        # as Redis's once-a-second fsync.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
    ]
    argv += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    address = f"{LOOPBACK}:{port}"

    async def probe(child: ChildProcess) -> None:
        # Imported here so the supervisor spawns its children before paying for
        # temporalio's import (cold start).
        from backend.temporal_connect import wait_until_serving

        await wait_until_serving(address, timeout=60)

    return ChildSpec(
        name="temporal",
        argv=argv,
        probe=probe,
        ready_timeout=60,
        stop_timeout=5,
        # The dev server takes port numbers only, so each was free when chosen and
        # could be taken before the server binds it: the owner check is the guard.
        ports=(port, http_port, metrics_port, *((ui_port,) if ui_port else ())),
        # The dev server now and then exits at start on its own (a panic while it sets
        # up its listeners); a second start succeeds.
        start_tries=3,
    )
