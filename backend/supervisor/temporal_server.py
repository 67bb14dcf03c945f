"""The Temporal dev server child: ``temporal server start-dev`` on loopback, state on disk."""

from __future__ import annotations

from backend.paths import DataDir
from backend.supervisor.binaries import find_temporal
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK


def temporal_spec(data: DataDir, port: int, ui_port: int | None) -> ChildSpec:
    argv = [
        str(find_temporal()),
        "server",
        "start-dev",
        "--ip",
        LOOPBACK,
        "--port",
        str(port),
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

    return ChildSpec(name="temporal", argv=argv, probe=probe, ready_timeout=60, stop_timeout=5)
