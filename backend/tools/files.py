"""Listing and reading text files inside the one folder the user granted.

Every path is resolved (symlinks included) and must stay inside the granted
folder; anything else is refused with a ToolError the model sees.

Checking a path and then opening it by name would let a file swapped in between
(for a symlink to somewhere else) be read. So the check records which file it
vetted (device and inode), the open refuses to follow a symlink in the last
component, and the opened file must be the vetted one. Listings never follow
symlinks: a link to a file outside the folder reveals nothing about that file.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from backend.tools.errors import ToolError

MAX_READ_BYTES = 256 * 1024
MAX_ENTRIES = 500
MAX_PATH_CHARS = 4096  # Linux's PATH_MAX; longer paths cannot name a file anyway
_CHUNK = 64 * 1024
_TEXT_PROBE = 8192
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
# What opening with O_NOFOLLOW gives for a symlink (ELOOP; EMLINK on FreeBSD), or for a
# path that vanished or whose folder became a file since it was vetted.
_SWAPPED_ERRNOS = {errno.ELOOP, errno.EMLINK, errno.ENOENT, errno.ENOTDIR}


@dataclass(frozen=True)
class Vetted:
    """A path found inside the granted folder, and the identity of what it named then."""

    shown: str  # the path as the model wrote it, for messages
    real: str  # absolute, with every symlink resolved at vetting time
    device: int
    inode: int
    mode: int


def list_files(granted: str | None, path: str = ".") -> str:
    folder = _vet(granted, path)
    if not stat.S_ISDIR(folder.mode):
        raise ToolError(f"{_quote(path)} is not a folder")
    fd = _open_vetted(folder, _DIR_FLAGS)
    try:
        entries = _entries(fd)
    finally:
        os.close(fd)
    entries.sort(key=lambda line: (not line.endswith("/"), line.lower()))  # folders first
    lines = entries[:MAX_ENTRIES]
    if len(entries) > MAX_ENTRIES:
        lines.append(f"... and {len(entries) - MAX_ENTRIES} more")
    return "\n".join(lines) if lines else "(empty folder)"


def read_file(granted: str | None, path: str) -> str:
    target = _vet(granted, path)
    if not stat.S_ISREG(target.mode):
        raise ToolError(f"{_quote(path)} is not a file")
    fd = _open_vetted(target, _READ_FLAGS)
    try:
        data = _read_at_most(fd, MAX_READ_BYTES + 1)
    except OSError as exc:
        raise ToolError(f"cannot read {_quote(path)}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if b"\0" in data[:_TEXT_PROBE]:
        raise ToolError(f"{_quote(path)} is not a text file")
    text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_READ_BYTES:
        text += f"\n[... cut at {MAX_READ_BYTES} bytes]"
    return text


def _read_at_most(fd: int, limit: int) -> bytes:
    """Reads until ``limit`` bytes or the end, so a huge file costs no more than ``limit``."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _vet(granted: str | None, path: str) -> Vetted:
    root = _root(granted)
    _check_path(path)
    try:
        real = os.path.realpath(os.path.join(root, path))
        inside = real == root or real.startswith(root.rstrip(os.sep) + os.sep)
        if not inside:
            raise ToolError(
                f"{_quote(path)} is outside the granted folder; only {root} may be read"
            )
        st = os.lstat(real)
    except FileNotFoundError:
        raise ToolError(f"there is no {_quote(path)} in the granted folder") from None
    except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot encode
        raise ToolError(f"{_quote(path)} is not a usable path: {_reason(exc)}") from None
    return Vetted(path, real, st.st_dev, st.st_ino, st.st_mode)


def _root(granted: str | None) -> str:
    if not granted:
        raise ToolError("no folder is granted for file tools: choose one in Settings")
    try:
        root = os.path.realpath(Path(granted).expanduser())
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise ToolError(f"the granted folder is not usable ({_reason(exc)})") from None
    if not os.path.isdir(root):
        raise ToolError(f"the granted folder {granted} does not exist: choose one in Settings")
    return root


def _check_path(path: object) -> None:
    if not isinstance(path, str):
        raise ToolError("the path must be a string")
    if "\0" in path:
        raise ToolError("the path contains a NUL character")
    if len(path) > MAX_PATH_CHARS:
        raise ToolError(f"the path is longer than {MAX_PATH_CHARS} characters")


def _open_vetted(vetted: Vetted, flags: int) -> int:
    """Opens exactly the file that was vetted, or refuses.

    ``O_NOFOLLOW`` refuses a symlink swapped in for the last component; the identity
    check refuses any other file put in its place (a rename, or a directory above it
    swapped for a link). ``O_NONBLOCK`` keeps a FIFO swapped in from hanging the open.
    """
    try:
        fd = os.open(vetted.real, flags)
    except OSError as exc:
        if exc.errno in _SWAPPED_ERRNOS:
            raise _changed(vetted) from None
        raise ToolError(f"cannot open {_quote(vetted.shown)}: {_reason(exc)}") from None
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    same = (st.st_dev, st.st_ino) == (vetted.device, vetted.inode)
    if not same or stat.S_IFMT(st.st_mode) != stat.S_IFMT(vetted.mode):
        os.close(fd)
        raise _changed(vetted)
    return fd


def _changed(vetted: Vetted) -> ToolError:
    return ToolError(f"{_quote(vetted.shown)} changed while it was being opened; it was not read")


def _entries(dir_fd: int) -> list[str]:
    """Each entry as its listing line; symlinks are shown as links and never followed."""
    with os.scandir(dir_fd) as it:
        return [line for entry in it if (line := _describe(entry)) is not None]


def _shown(name: str) -> str:
    """A file name as text: a name that is not valid UTF-8 shows its odd bytes escaped
    (as it comes from the OS it could not be sent to the model, or stored)."""
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate, not from the OS: from the model
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _describe(entry: os.DirEntry[str]) -> str | None:
    name = _shown(entry.name)
    try:
        if entry.is_symlink():
            return f"{name} -> (link)"
        if entry.is_dir(follow_symlinks=False):
            return f"{name}/"
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return None  # gone since the folder was read, or unreadable: not worth failing for
    if stat.S_ISREG(st.st_mode):
        return f"{name} ({st.st_size} bytes)"
    return f"{name} (special file)"


def _quote(path: str) -> str:
    """The path for a message, cut so a very long one does not flood the model's context."""
    path = _shown(path)
    return repr(path) if len(path) <= 200 else repr(path[:200]) + "..."


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
