"""``durachat serve``: the backend without a window.

Prints exactly one JSON line on stdout once a workflow can be started, then runs
until SIGINT or SIGTERM and stops every child before it exits.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import sys

from backend.local.logs import setup_process_logging
from backend.local.paths import DataDir
from backend.local.settings import SettingsError
from backend.supervisor.child import ChildFailed
from backend.supervisor.lock import DataDirBusy
from backend.supervisor.supervisor import BackendFailed, Supervisor, SupervisorOptions

log = logging.getLogger("durachat.serve")

EXIT_BUSY = 3
EXIT_FAILED = 1


def ready_event(sup: Supervisor) -> dict[str, object]:
    info = sup.info
    assert info is not None
    return {
        "event": "ready",
        "data_dir": info.data_dir,
        "temporal": info.temporal,
        "temporal_ui": info.temporal_ui,
        "redis": info.redis,
        "pid": info.supervisor_pid,
        "log_dir": info.log_dir,
    }


async def serve(options: SupervisorOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    sup = Supervisor(options)
    start = asyncio.create_task(sup.start())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not start.done():  # asked to stop while starting
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        await sup.stop()
        return 0
    try:
        start.result()
    except DataDirBusy as exc:
        print(f"durachat: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except SettingsError as exc:  # from options.on_locked: a damaged settings file
        print(f"durachat: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (BackendFailed, ChildFailed, ValueError) as exc:
        log.error("start failed: %s", exc)
        print(f"durachat: the backend could not start: {exc}", file=sys.stderr)
        return EXIT_FAILED

    print(json.dumps(ready_event(sup)), flush=True)
    await stopper
    log.info("stopping on request")
    await sup.stop()
    log.info("stopped")
    return 0


def run_serve(options: SupervisorOptions) -> int:
    data: DataDir = options.data_dir.ensure()
    setup_process_logging(data.logs / "supervisor.log")
    code = asyncio.run(serve(options))
    gc.collect()  # release Temporal core clients before the interpreter finalizes
    return code
