"""The worker's MCP servers: checked at start and whenever mcp.json changes, and
served on their own task queue by an inner Temporal worker that starts over with
each change, while the conversation worker runs on undisturbed.

The connections themselves (one per server, started on first use, started again
after a crash or a timed-out call) belong to the OpenAI Agents plugin's
``mcp_servers`` support; its list and call activities are what the workflow
schedules (``temporal_mcp_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from backend.mcp import config as mcp_config
from backend.mcp.config import McpConfig, McpConfigError, config_hash
from backend.mcp.heartbeats import HeartbeatInterceptor
from backend.mcp.probe import PROBE_TIMEOUT_S, probe, probe_all
from backend.mcp.servers import make_server
from backend.mcp.status import ServerStatus, current, write_statuses
from backend.temporal_connect import MCP_TASK_QUEUE
from backend.tools.setup import ServerSetup, ready_servers

log = logging.getLogger("durachat.mcp")

POLL_S = 0.5  # how often mcp.json is looked at
RETRY_FAILED_S = 60.0  # how often a server that could not start is tried again
# How long a turn waits for servers being checked (each check has its own limit).
SETTLE_WAIT_S = PROBE_TIMEOUT_S + 5

# A client whose OpenAI Agents plugin serves these server factories (``mcp_servers``).
Connect = Callable[[dict[str, Callable[[], object]]], Awaitable[Client]]


class McpManager:
    def __init__(self, connect: Connect, mcp_file: Path, status_file: Path, log_dir: Path) -> None:
        self._connect = connect
        self._mcp_file = mcp_file
        self._status_file = status_file
        self._log_dir = log_dir
        self._config = McpConfig()
        self._statuses: dict[str, ServerStatus] = {}
        # Set while no check is under way: a turn that begins during one waits for it,
        # so a message sent just after start-up (or an edit) gets the server's tools.
        self._settled = asyncio.Event()

    async def ready(self) -> list[ServerSetup]:
        """The servers a turn may use now: checked and listed their tools (after the
        check under way, if any, has ended)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), SETTLE_WAIT_S)
        return ready_servers(self._config, list(self._statuses.values()))

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self._mcp_file.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _load(self) -> McpConfig:
        try:
            return mcp_config.load(self._mcp_file)
        except McpConfigError as exc:
            log.warning("no MCP servers: %s", exc)
            return McpConfig()

    def _publish(self) -> None:
        board = {s.name: s for s in current(self._config, self._statuses)}
        try:
            write_statuses(self._status_file, board)
        except OSError as exc:
            log.warning("could not write %s: %s", self._status_file, exc)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                stamp = self._stamp()
                try:
                    await self._serve_until_changed(stop, stamp)
                # Whatever the user's servers and configuration make go wrong here (a
                # client that cannot connect, a plugin that refuses a server) must not
                # take the conversation worker down: it is logged, the servers are
                # reported as failed, and the next change of mcp.json tries again.
                except Exception as exc:
                    log.exception("the MCP servers could not be served")
                    self._fail_all(f"DuraChat could not serve it: {exc}")
                    await self._wait_for_change(stop, stamp)
        finally:
            self._settled.set()  # no turn waits for a check that will not come

    def _fail_all(self, error: str) -> None:
        self._statuses = {
            name: ServerStatus(
                name=name, status="failed", error=error, config_hash=config_hash(server)
            )
            for name, server in self._config.enabled().items()
        }
        self._publish()
        self._settled.set()

    async def _serve_until_changed(
        self, stop: asyncio.Event, stamp: tuple[int, int] | None
    ) -> None:
        self._settled.clear()
        self._config = self._load()
        self._statuses = {}
        self._publish()  # "starting" for each, until checked
        self._statuses = await probe_all(self._config, self._log_dir)
        self._publish()
        self._settled.set()
        for s in self._statuses.values():
            if s.status == "failed":
                log.warning("MCP server %s cannot be used: %s", s.name, s.error)
        factories = {
            name: partial(make_server, name, server, self._log_dir)
            for name, server in self._config.enabled().items()
        }
        if not factories:
            await self._wait_for_change(stop, stamp)
            return
        client = await self._connect(factories)
        worker = Worker(
            client,
            task_queue=MCP_TASK_QUEUE,
            interceptors=[HeartbeatInterceptor()],
            # A call cut short by a change of mcp.json fails or is retried as its
            # tool allows, like any other interruption.
            graceful_shutdown_timeout=timedelta(seconds=2),
        )
        async with worker:
            await self._wait_for_change(stop, stamp)
        del worker, client  # released before the next, and before the process exits

    async def _wait_for_change(self, stop: asyncio.Event, stamp: tuple[int, int] | None) -> None:
        waited = 0.0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
            if self._stamp() != stamp:
                return
            waited += POLL_S
            if waited >= RETRY_FAILED_S:
                waited = 0.0
                await self._retry_failed()

    async def _retry_failed(self) -> None:
        for name, server in self._config.enabled().items():
            known = self._statuses.get(name)
            if known is not None and known.status == "failed":
                found = await probe(name, server, self._log_dir)
                if found.config_hash == config_hash(server):
                    self._statuses[name] = found
        self._publish()
