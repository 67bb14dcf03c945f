"""Where DuraChat keeps its files.

One data dir holds everything durable (Temporal's database, Redis's append-only
file, settings, logs, runtime.json). It is private to the user: mode 0700.

DuraChat tightens the permissions only of a dir it made itself (it leaves a
marker file in it): ``--data-dir /tmp`` must not turn /tmp private. A dir it did
not make is used only when it is already private and the user's own.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from backend.local.private_files import write_private

APP_NAME = "DuraChat"
DATA_DIR_ENV = "DURACHAT_DATA_DIR"
# Less room than this and Temporal's database or Redis's log cannot take a message:
# the disk counts as full.
MIN_FREE_BYTES = 1024 * 1024
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_NOT_WRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
MARKER_NAME = ".durachat-data-dir"
_MARKER_TEXT = "This directory was created by DuraChat and holds its data.\n"


class DataDirNotPrivate(OSError):
    """The data dir is readable by others and DuraChat did not create it; the
    message says what to do. An OSError, so every caller that reports a data dir
    it cannot use reports this one too."""


def default_data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class DataDir:
    """The layout of one data dir; every file path the backend uses comes from here."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> DataDir:
        root = Path(explicit).expanduser() if explicit else default_data_dir()
        return cls(root.absolute())

    def ensure(self) -> DataDir:
        """Create the data dir (0700) and its sub-folders.

        Loose permissions are tightened only on a dir DuraChat made; any other dir
        must already be private and the user's own, else DataDirNotPrivate.
        """
        try:
            self.root.mkdir(mode=0o700, parents=True)
            created = True
        except FileExistsError:
            created = False
        if created:
            # mkdir's mode is masked by the umask.
            os.chmod(self.root, 0o700)
            write_private(self.marker_file, _MARKER_TEXT)
        else:
            self._check_existing()
        for sub in (self.logs, self.redis_dir):
            sub.mkdir(mode=0o700, exist_ok=True)
        return self

    def _check_existing(self) -> None:
        st = self.root.stat()
        if not stat.S_ISDIR(st.st_mode):
            raise DataDirNotPrivate(f"the data dir {self.root} is not a directory")
        if os.name != "posix":  # modes and owners of this kind are a POSIX matter
            return
        if st.st_uid != os.geteuid():
            raise DataDirNotPrivate(
                f"the data dir {self.root} belongs to another user (uid {st.st_uid}); "
                f"choose your own with --data-dir or ${DATA_DIR_ENV}"
            )
        loose = st.st_mode & 0o077
        if self.marker_file.is_file():
            if loose:
                os.chmod(self.root, 0o700)
            return
        mode = stat.S_IMODE(st.st_mode)
        if mode & (stat.S_IWOTH | stat.S_ISVTX):  # a shared dir such as /tmp: never make it private
            raise DataDirNotPrivate(
                f"the data dir {self.root} is shared with other users (mode {mode:o}); "
                f"choose another with --data-dir or ${DATA_DIR_ENV}"
            )
        if loose:
            raise DataDirNotPrivate(
                f"the data dir {self.root} is readable by others (mode {mode:o}) and DuraChat "
                f"did not create it; make it private with 'chmod 700 {self.root}' or choose "
                f"another with --data-dir or ${DATA_DIR_ENV}"
            )
        # Private and the user's own (a data dir from before the marker, or one the
        # user made for DuraChat): DuraChat may look after it from now on.
        try:
            write_private(self.marker_file, _MARKER_TEXT)
        except OSError as exc:  # named as the data dir, not the marker's temporary file
            raise type(exc)(exc.errno, exc.strerror, str(self.root)) from None

    def free_bytes(self) -> int | None:
        """Room left on the disk that holds the data dir (None if it cannot be told)."""
        for where in (self.root, *self.root.parents):
            if where.exists():
                try:
                    return shutil.disk_usage(where).free
                except OSError:
                    return None
        return None

    def disk_is_full(self) -> bool:
        free = self.free_bytes()
        return free is not None and free < MIN_FREE_BYTES

    def disk_full_message(self, detail: str = "") -> str:
        why = f" ({detail})" if detail else ""
        return (
            f"the disk holding {self.root} is full{why}; free some space, "
            f"or choose another data dir with --data-dir or ${DATA_DIR_ENV}"
        )

    def explain(self, exc: OSError) -> str:
        """One line a user can act on for an OSError met while using this data dir."""
        what = exc.strerror or str(exc)
        where = f"{what}: {exc.filename}" if exc.filename else what
        if exc.errno in _DISK_FULL:
            return self.disk_full_message(where)
        if exc.errno in _NOT_WRITABLE and self._holds(exc.filename):
            return (
                f"cannot write to the data dir {self.root} ({where}); make it writable, "
                f"or choose another with --data-dir or ${DATA_DIR_ENV}"
            )
        return where

    def _holds(self, filename: object) -> bool:
        if not isinstance(filename, str | bytes | os.PathLike):
            return False
        return Path(os.fsdecode(filename)).absolute().is_relative_to(self.root)

    @property
    def marker_file(self) -> Path:
        """Present when DuraChat made (or adopted) the data dir: only then may it chmod it."""
        return self.root / MARKER_NAME

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def redis_socket(self) -> Path:
        return self.redis_dir / "redis.sock"

    @property
    def redis_conf(self) -> Path:
        return self.redis_dir / "redis.conf"

    @property
    def temporal_db(self) -> Path:
        return self.root / "temporal.db"

    @property
    def runtime_file(self) -> Path:
        return self.root / "runtime.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def mcp_file(self) -> Path:
        return self.root / "mcp.json"

    @property
    def mcp_status_file(self) -> Path:
        return self.root / "mcp_status.json"

    @property
    def outbox_file(self) -> Path:
        """Messages sent while the backend was unreachable, until it takes them."""
        return self.root / "outbox.json"
