"""The supervisor: starts Temporal, Redis and the worker, keeps them alive, stops them.

Order of a start: take the data dir's lock, reap what a crashed run left, start
the three children in parallel (the worker waits for Temporal by itself), record
them in runtime.json, then run the health workflow end to end. Only then is the
backend "ready". Children that die later are restarted with backoff.

Order of a stop: the worker first (it drains), then both servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.encryption.payload_key import PayloadKeyError, ensure_keys
from backend.local.paths import DataDir
from backend.local.runtime_info import ChildRecord, RuntimeInfo
from backend.supervisor.child import ChildFailed, ChildProcess, ChildSpec
from backend.supervisor.demo_model_child import (
    demo_base_url,
    demo_model_spec,
    listening_socket,
)
from backend.supervisor.lock import DataDirLock
from backend.supervisor.ports import LOOPBACK, free_ports, parse_host_port
from backend.supervisor.reaper import reap_leftovers
from backend.supervisor.redis_server import choose_listener, ping, redis_spec
from backend.supervisor.redis_target import RedisTarget
from backend.supervisor.temporal_server import temporal_spec
from backend.supervisor.ui_guard import UiGuard
from backend.supervisor.worker_child import worker_spec
from backend.worker.protocol import WorkerEnv

if TYPE_CHECKING:
    # temporalio is imported only once the children are spawned (cold start):
    # see backend/supervisor/health_check.py.
    from temporalio.client import Client

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 30.0  # seconds for the health workflow once every child is ready


def _worker_first(name: str) -> int:
    return 0 if name == "worker" else 1


async def _wait_for_temporal(address: str) -> None:
    from backend.temporal_connect import wait_until_serving

    await wait_until_serving(address, 10)


class BackendFailed(RuntimeError):
    """The backend could not start; the message names the part, the cause and the log."""


@dataclass(frozen=True)
class SupervisorOptions:
    data_dir: DataDir
    temporal_address: str | None = None  # use this server instead of starting one
    redis_url: str | None = None  # likewise
    web_ui: bool = False
    demo_tokens_per_second: float | None = None  # the demo model's pacing (its default if None)
    # Runs once the data dir's lock is held, before any child starts: serve saves its
    # settings there, so a serve that finds the data dir busy changes nothing.
    on_locked: Callable[[], object] | None = None


class Supervisor:
    def __init__(self, options: SupervisorOptions) -> None:
        self.options = options
        self.data = options.data_dir
        self._lock = DataDirLock(self.data)
        self.children: dict[str, ChildProcess] = {}
        self.info: RuntimeInfo | None = None
        self._ui_guard: UiGuard | None = None
        self._demo_socket: socket.socket | None = None
        self.client: Client | None = None

    # -- start ----------------------------------------------------------------------

    async def start(self) -> RuntimeInfo:
        self.data.ensure()
        self._lock.acquire()  # raises DataDirBusy with a clear message
        try:
            if self.options.on_locked is not None:
                self.options.on_locked()
            return await self._start_locked()
        except BaseException:
            await self.stop()
            raise

    async def _start_locked(self) -> RuntimeInfo:
        try:
            # Made on the first start, before any child that needs it.
            keys = await asyncio.to_thread(ensure_keys)
        except PayloadKeyError as exc:
            raise BackendFailed(str(exc)) from None
        reaped = await asyncio.to_thread(reap_leftovers, RuntimeInfo.read(self.data.runtime_file))
        if reaped:
            log.warning("reaped %d process(es) left by a crashed run: %s", len(reaped), reaped)
        self.data.runtime_file.unlink(missing_ok=True)

        opts = self.options
        # The supervisor's own listeners first: bound to port 0, they could otherwise
        # be given a port just chosen for a child (free_ports).
        self._demo_socket = listening_socket()
        demo_port = self._demo_socket.getsockname()[1]
        self._add(demo_model_spec(self._demo_socket, opts.demo_tokens_per_second))
        if opts.web_ui and not opts.temporal_address:
            # The user opens the guard's port; the UI's own port only it reaches.
            self._ui_guard = UiGuard()
            await self._ui_guard.start()

        # Every port a child is told to take, chosen at once so no two are the same.
        temporal_port, ui_port, http_port, metrics_port, redis_port = free_ports(5)
        if opts.temporal_address:
            temporal_address = opts.temporal_address
            parse_host_port(temporal_address)  # fail early on a malformed address
        else:
            temporal_address = f"{LOOPBACK}:{temporal_port}"
            if self._ui_guard is not None:
                self._ui_guard.ui_port = ui_port
            ui = ui_port if self._ui_guard is not None else None
            self._add(temporal_spec(self.data, temporal_port, ui, http_port, metrics_port))

        if opts.redis_url:
            redis = RedisTarget.from_url(opts.redis_url)
        else:
            redis = choose_listener(self.data, redis_port)
            self._add(redis_spec(self.data, redis))

        self.info = RuntimeInfo(
            supervisor_pid=os.getpid(),
            data_dir=str(self.data.root),
            temporal=temporal_address,
            temporal_ui=self._ui_guard.url if self._ui_guard else None,
            redis_socket=redis.socket,
            redis_host=redis.host,
            redis_port=redis.port,
            redis_password=redis.password,
            redis_db=redis.db,
            log_dir=str(self.data.logs),
            demo_model=demo_base_url(demo_port),
        )
        self._add(
            worker_spec(
                self.data,
                WorkerEnv(
                    temporal_address,
                    self.info.redis_url(),
                    str(self.data.root),
                    demo_base_url(demo_port),
                ),
            )
        )

        # Spawn now, the worker first (its import of the agents SDK is the longest
        # step of a start), and only then import what the rest needs: it overlaps.
        starts: list[Awaitable[object]] = [
            asyncio.ensure_future(self._start_and_watch(self.children[name]))
            for name in sorted(self.children, key=_worker_first)
        ]
        await asyncio.sleep(0)  # each start runs up to its spawn
        if opts.temporal_address:
            starts.append(self._check_external("Temporal", _wait_for_temporal(temporal_address)))
        if opts.redis_url:
            starts.append(self._check_external("Redis", ping(redis, 10)))
        from backend.supervisor.health_check import reencrypt_legacy_runs, start_health_workflow
        from backend.temporal_logging import forward_core_logs

        forward_core_logs()  # before our first client: its warnings go to the log file
        health = asyncio.ensure_future(start_health_workflow(temporal_address, timeout=60))
        starts.append(health)
        await self._all_or_nothing(starts)
        self._write_runtime()

        self.client, handle = health.result()
        try:
            await asyncio.wait_for(handle.result(), HEALTH_TIMEOUT)
        except Exception as exc:
            raise BackendFailed(
                f"the health workflow did not complete: {exc!r}; see {self.data.logs}"
            ) from exc

        await reencrypt_legacy_runs(self.client, keys.encrypted_since)
        await self._move_conversations_to_store()
        log.info("backend ready: %s", self.info.model_dump(exclude={"redis_password"}))
        return self.info

    @staticmethod
    async def _start_and_watch(child: ChildProcess) -> None:
        """Start the child, then restart it whenever it dies, from that moment on: one
        that dies while the others still start (or during the health check) comes
        back like one that dies later."""
        await child.start()
        child.watch()

    async def _move_conversations_to_store(self) -> None:
        """Once per data dir: conversations from before the store go into it (see
        store_upgrade), before anyone reads the store through this backend."""
        from temporalio.service import RPCError

        from backend.client.store import ConversationStore
        from backend.supervisor.store_upgrade import import_from_workflows, needs_import

        store = ConversationStore.in_data_dir(self.data.root)
        try:
            if needs_import(store):
                await import_from_workflows(self.client, store)
        except RPCError as exc:  # tried again at the next start
            log.warning("could not move conversations to the store: %s", exc.message)
        finally:
            store.close()

    @staticmethod
    async def _all_or_nothing(starts: list[Awaitable[None]]) -> None:
        """Run the starts in parallel; at the first failure cancel the rest and raise."""
        tasks = [asyncio.ensure_future(s) for s in starts]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        failures = [t.exception() for t in done if t.exception() is not None]
        if failures:
            raise BackendFailed("\n".join(str(f) for f in failures))

    def _add(self, spec: ChildSpec) -> None:
        self.children[spec.name] = ChildProcess(
            spec, self.data.logs, on_started=lambda _c: self._write_runtime()
        )

    @staticmethod
    async def _check_external(what: str, probe: Awaitable[object]) -> None:
        try:
            await probe
        except Exception as exc:
            raise ChildFailed(f"the {what} server you named is not reachable: {exc}") from exc

    def _write_runtime(self) -> None:
        if self.info is None:
            return
        records = {}
        for name, child in self.children.items():
            if child.process and child.process.returncode is None:
                with contextlib.suppress(Exception):
                    records[name] = ChildRecord(
                        pid=child.process.pid,
                        create_time=child.create_time(),
                        argv0=child.spec.argv[0],
                    )
        self.info = self.info.model_copy(update={"children": records})
        self.info.write(self.data.runtime_file)

    # -- state ---------------------------------------------------------------------

    def health(self) -> dict[str, bool]:
        """Which parts are serving right now (for the status bar and ``doctor``)."""
        return {name: child.ready for name, child in self.children.items()}

    # -- stop ------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop the worker (it drains), then the servers; release the data dir."""
        worker = self.children.get("worker")
        if worker:
            await worker.stop()
        servers = [c.stop() for name, c in self.children.items() if name != "worker"]
        await asyncio.gather(*servers, return_exceptions=True)
        if self._ui_guard is not None:
            await self._ui_guard.stop()
            self._ui_guard = None
        if self._demo_socket is not None:
            self._demo_socket.close()
            self._demo_socket = None
        self.client = None
        if self.info is not None:
            self.data.runtime_file.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            self._lock.release()
