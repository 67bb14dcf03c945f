"""The Redis child: a unix socket in the private data dir, a fresh random password per
launch, append-only file.

The socket lives in the 0700 data dir, so no other user can even reach it, and Redis
listens on no TCP port. A socket path has a hard length limit; a data dir too deep
for it gets loopback TCP instead, where the password is what keeps others out.

The password goes into a 0600 config file, never onto the command line, where
any local user could read it from the process list.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from pathlib import Path

from backend.local.paths import DataDir
from backend.local.private_files import write_private
from backend.supervisor.binaries import find_redis_server
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK
from backend.supervisor.redis_target import RedisTarget

log = logging.getLogger(__name__)

# sockaddr_un.sun_path holds the path and its terminating NUL: 104 bytes on macOS
# and the BSDs, 108 on Linux.
MAX_SOCKET_PATH_BYTES = (108 if sys.platform.startswith("linux") else 104) - 1


def new_password() -> str:
    return secrets.token_urlsafe(32)


def socket_path_problem(path: Path) -> str | None:
    """Why Redis cannot listen on a unix socket at ``path``, or None when it can."""
    if os.name != "posix":
        return "this system has no unix sockets"
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        return (
            f"the socket path {path} is {size} bytes, over the limit of "
            f"{MAX_SOCKET_PATH_BYTES}; a data dir with a shorter path avoids this"
        )
    return None


def choose_listener(data: DataDir, tcp_port: int) -> RedisTarget:
    """Where the Redis DuraChat starts will listen: the data dir's socket when the
    path fits, else ``tcp_port`` on loopback (logged, with the reason)."""
    password = new_password()
    problem = socket_path_problem(data.redis_socket)
    if problem is None:
        return RedisTarget(None, None, password, socket=str(data.redis_socket))
    log.warning("Redis listens on loopback TCP (with its password): %s", problem)
    return RedisTarget(LOOPBACK, tcp_port, password)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(data: DataDir, target: RedisTarget) -> None:
    if target.socket:
        listen = [
            "port 0",  # no TCP listener at all
            f"unixsocket {_quote(target.socket)}",
            "unixsocketperm 700",
        ]
    else:
        listen = [f"bind {LOOPBACK}", f"port {target.port}"]
    write_private(
        data.redis_conf,
        "\n".join(
            [
                *listen,
                "protected-mode yes",
                f"requirepass {_quote(target.password or '')}",
                f"dir {_quote(str(data.redis_dir))}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "daemonize no",
                'logfile ""',
                "loglevel warning",
                "",
            ]
        ),
    )


async def ping(target: RedisTarget, timeout: float) -> None:
    """PING until Redis answers; raise TimeoutError otherwise."""
    import redis.asyncio as aioredis  # here, not at the top: see temporal_server.probe

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_error: Exception | None = None
    while loop.time() < deadline:
        client = aioredis.Redis(
            host=target.host or "localhost",
            port=target.port or 6379,
            unix_socket_path=target.socket,
            password=target.password,
            db=target.db,
            socket_timeout=2,
        )
        try:
            if await client.ping():
                return
        except Exception as exc:  # any failure here means "not yet"
            last_error = exc
        finally:
            await client.aclose()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"Redis at {target} did not answer: {last_error}")


def redis_spec(data: DataDir, target: RedisTarget) -> ChildSpec:
    write_config(data, target)

    async def probe(child: ChildProcess) -> None:
        await ping(target, timeout=30)

    return ChildSpec(
        name="redis",
        argv=[str(find_redis_server()), str(data.redis_conf)],
        probe=probe,
        ready_timeout=30,
        stop_timeout=5,
        # Redis takes a port number, not a socket: whether the listener on it is
        # really this Redis is checked once it answers (see port_owner.py).
        ports=(target.port,) if target.port else (),
    )
