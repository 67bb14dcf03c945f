"""One supervisor per data dir, enforced by an OS file lock.

The lock dies with its holder (even on SIGKILL), so a crashed run never leaves a
stale lock behind; its descriptor is not inherited by children.
"""

from __future__ import annotations

import filelock

from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo


class DataDirBusy(RuntimeError):
    pass


class DataDirLock:
    def __init__(self, data: DataDir) -> None:
        self._data = data
        self._lock = filelock.FileLock(data.lock_file, timeout=0, mode=0o600)

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise DataDirBusy(self.busy_message()) from None

    def release(self) -> None:
        self._lock.release()

    def is_held_elsewhere(self) -> bool:
        """True when another process runs a backend on this data dir."""
        try:
            self._lock.acquire()
        except filelock.Timeout:
            return True
        self._lock.release()
        return False

    def busy_message(self) -> str:
        info = RuntimeInfo.read(self._data.runtime_file)
        who = f" (pid {info.supervisor_pid})" if info else ""
        return (
            f"DuraChat is already running on {self._data.root}{who}; stop it first, "
            "or choose another data dir with --data-dir"
        )
