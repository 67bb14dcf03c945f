"""The Temporal Web UI behind a guard that only the user's own browser tab gets past.

The UI server answers any Host, so a web page whose name was re-pointed at
127.0.0.1 (DNS rebinding) could read it and act through it. The guard listens on
the port the user opens and forwards a connection to the UI only when its first
request names that port on a loopback name; a browser keeps one connection per
origin, so a rebound page never shares a connection with the user's tab.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from backend.supervisor.ports import LOOPBACK

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT_S = 10.0
REFUSED = (
    b"HTTP/1.1 421 Misdirected Request\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 43\r\nConnection: close\r\n\r\n"
    b"DuraChat's Web UI answers only to 127.0.0.1\n"
)


def host_of(head: bytes) -> str | None:
    """The Host header of an HTTP/1 request head, lower-cased; None if absent."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            return value.strip().decode("latin-1").lower()
    return None


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


class UiGuard:
    def __init__(self, ui_port: int = 0) -> None:
        self.ui_port = ui_port  # may be set after start(), before the UI is reached
        self.public_port = 0  # bound by start(): ours from the first moment, no race
        self._allowed: frozenset[str] = frozenset()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        self.public_port = self._server.sockets[0].getsockname()[1]
        self._allowed = allowed_hosts(self.public_port)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.public_port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
            if host_of(head) not in self._allowed:
                writer.write(REFUSED)
                await writer.drain()
                return
            ui_reader, ui_writer = await asyncio.open_connection(LOOPBACK, self.ui_port)
            ui_writer.write(head)
            await asyncio.gather(_pipe(reader, ui_writer), _pipe(ui_reader, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # not a request this guard can read: dropped
        except OSError as exc:
            log.info("Web UI connection ended: %s", exc)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(64 * 1024):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
