"""A backend started for one process (the window): the supervisor's start, then a
client on it, with every way the start can fail as one typed error.

The supervisor's start runs many parts (binaries, ports, the lock, Temporal, Redis,
the worker, a health workflow); each fails in its own way. The window shows the
message and offers Retry: it catches ``BackendStartFailed``, never those.
"""

from __future__ import annotations

from temporalio.service import RPCError

from backend.client.api import DuraChatClient
from backend.client.errors import BackendStartFailed
from backend.encryption.payload_key import PayloadKeyError
from backend.supervisor.binaries import BinaryNotFound
from backend.supervisor.child import ChildFailed
from backend.supervisor.lock import DataDirBusy
from backend.supervisor.supervisor import BackendFailed, Supervisor

# What Supervisor.start raises for a backend that cannot start (it has stopped
# whatever it had started by then): its own failures, the data dir's lock held by
# another process, a binary missing, the key, a port or file it could not take, a
# server that did not answer in time or refused the start-up's own requests.
_START_FAILURES = (
    BackendFailed,
    ChildFailed,
    BinaryNotFound,
    DataDirBusy,
    PayloadKeyError,
    OSError,
    TimeoutError,
    RPCError,
)


async def start_backend(supervisor: Supervisor) -> DuraChatClient:
    """Start the supervisor's backend and connect a client to it.

    Raises BackendStartFailed (nothing is left running), or the client's own
    DuraChatError when the backend started but the client cannot use it (then the
    backend is stopped again: a backend nobody can talk to only holds the data dir).
    """
    try:
        info = await supervisor.start()
    except _START_FAILURES as exc:
        raise BackendStartFailed(str(exc) or type(exc).__name__) from exc
    try:
        return await DuraChatClient.connect_to(info)
    except BaseException:
        await supervisor.stop()
        raise
