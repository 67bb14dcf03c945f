"""Running the demo model: in this event loop, in a background thread, or for the CLI.

All three bind the socket first (so port 0 resolves to a real port before anyone is told
the address) and stop by asking uvicorn to exit, which first ends open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from backend.demo_model.faults import FaultSpec
from backend.demo_model.server import (
    DEFAULT_TOKENS_PER_SECOND,
    DemoModelConfig,
    begin_shutdown,
    create_app,
)
from backend.demo_model.streaming import install_quiet_drop_filter

DEFAULT_HOST = "127.0.0.1"
# Backstop only: streams end on their own as soon as shutdown begins.
_GRACEFUL_SHUTDOWN_SECONDS = 3


class DemoModelServer(uvicorn.Server):
    """uvicorn's server, minus its signal handling and plus an early end to open streams.

    uvicorn's own handlers re-raise the signal after shutdown, which would kill the process
    with SIGTERM's status instead of exiting 0; the owner of the loop installs its own.
    """

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin_shutdown(self._app)
        await super().shutdown(sockets)


class DemoModelBindError(OSError):
    """The address to listen on is taken or not available."""


@dataclass(frozen=True)
class BoundDemoModel:
    """A demo model server with its socket bound but not yet serving."""

    server: DemoModelServer
    sock: socket.socket
    base_url: str


def bind_demo_model(
    host: str,
    port: int,
    tokens_per_second: float,
    fault: FaultSpec | str | None,
    api_key: str | None,
    listen_fd: int | None = None,
) -> BoundDemoModel:
    install_quiet_drop_filter()
    if isinstance(fault, str):
        fault = FaultSpec.parse(fault)
    app = create_app(
        DemoModelConfig(tokens_per_second=tokens_per_second, fault=fault, required_key=api_key)
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # The embedding process owns logging; uvicorn must not reconfigure it.
        log_config=None,
        access_log=False,
        # Startup chatter stays out; errors (a real crash in a handler) still show.
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )
    sock = _inherited_socket(listen_fd) if listen_fd is not None else _listen_socket(host, port)
    host, bound_port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    return BoundDemoModel(DemoModelServer(config, app), sock, f"http://{url_host}:{bound_port}/v1")


def _inherited_socket(fd: int) -> socket.socket:
    """A listening socket the parent bound (and keeps across our restarts)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise DemoModelBindError(f"cannot use socket fd {fd}: {exc.strerror or exc}") from exc
    if sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise DemoModelBindError(f"fd {fd} is not a stream socket")
    return sock


def _listen_socket(host: str, port: int) -> socket.socket:
    """Bind here rather than in uvicorn, whose bind exits the whole process on failure."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by every accepted connection. asyncio sets it only on sockets whose
        # proto is IPPROTO_TCP, which one made with proto 0 is not; without it a paced
        # token waits for the client's delayed ACK (40 ms) like any small write after
        # another (Nagle), which real providers do not make their clients wait.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DemoModelBindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


async def start_serving(bound: BoundDemoModel) -> asyncio.Task[None]:
    task = asyncio.create_task(bound.server.serve(sockets=[bound.sock]))
    while not bound.server.started:
        if task.done():
            task.result()  # re-raises why it could not start
            raise RuntimeError("demo model server stopped before it started")
        await asyncio.sleep(0.01)
    return task


@contextlib.asynccontextmanager
async def running_demo_model(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND,
    fault: FaultSpec | str | None = None,
    api_key: str | None = None,
) -> AsyncIterator[str]:
    """Serve the demo model on this event loop; yields the base URL (``.../v1``).

    ``api_key``, when given, is the only bearer key accepted.
    """
    bound = bind_demo_model(host, port, tokens_per_second, fault, api_key)
    task = await start_serving(bound)
    try:
        yield bound.base_url
    finally:
        bound.server.should_exit = True
        await task


@contextlib.contextmanager
def demo_model_in_thread(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND,
    fault: FaultSpec | str | None = None,
    api_key: str | None = None,
) -> Iterator[str]:
    """Serve the demo model on its own event loop in a daemon thread; yields the base URL.

    For synchronous callers, and for benchmarks that must not share a loop with the client.
    """
    bound = bind_demo_model(host, port, tokens_per_second, fault, api_key)
    started = threading.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        try:
            task = await start_serving(bound)
        except Exception as exc:
            # Handed to the caller's thread below rather than printed by this one.
            failure.append(exc)
            return
        finally:
            started.set()
        await task

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="demo-model", daemon=True)
    thread.start()
    started.wait()
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield bound.base_url
    finally:
        # uvicorn polls should_exit from its own loop, so setting it from here is safe.
        bound.server.should_exit = True
        thread.join()
