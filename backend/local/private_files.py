"""Files only the user may read (runtime.json, redis.conf, logs): mode 0600."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, replacing it atomically.

    The file is created 0600 before any byte is written, so the content is never
    visible to others, even for an instant.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for ``open()`` that makes the file 0600, whatever the umask, and
    takes group and other access away from one an earlier run left readable."""
    fd = os.open(path, flags, 0o600)
    if os.name == "posix" and os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)
    return fd
