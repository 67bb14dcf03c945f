"""The Redis child: loopback only, a fresh random password per launch, append-only file.

The password goes into a 0600 config file, never onto the command line, where
any local user could read it from the process list.
"""

from __future__ import annotations

import asyncio
import secrets

from backend.paths import DataDir
from backend.private_files import write_private
from backend.supervisor.binaries import find_redis_server
from backend.supervisor.child import ChildProcess, ChildSpec
from backend.supervisor.ports import LOOPBACK


def new_password() -> str:
    return secrets.token_urlsafe(32)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(data: DataDir, port: int, password: str) -> None:
    write_private(
        data.redis_conf,
        "\n".join(
            [
                f"bind {LOOPBACK}",
                f"port {port}",
                "protected-mode yes",
                f"requirepass {_quote(password)}",
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


async def ping(host: str, port: int, password: str | None, timeout: float) -> None:
    """PING until Redis answers; raise TimeoutError otherwise."""
    import redis.asyncio as aioredis  # here, not at the top: see temporal_server.probe

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_error: Exception | None = None
    while loop.time() < deadline:
        client = aioredis.Redis(host=host, port=port, password=password, socket_timeout=2)
        try:
            if await client.ping():
                return
        except Exception as exc:  # any failure here means "not yet"
            last_error = exc
        finally:
            await client.aclose()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"Redis at {host}:{port} did not answer: {last_error}")


def redis_spec(data: DataDir, port: int, password: str) -> ChildSpec:
    write_config(data, port, password)

    async def probe(child: ChildProcess) -> None:
        await ping(LOOPBACK, port, password, timeout=30)

    return ChildSpec(
        name="redis",
        argv=[str(find_redis_server()), str(data.redis_conf)],
        probe=probe,
        ready_timeout=30,
        stop_timeout=5,
    )
