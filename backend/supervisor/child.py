"""One supervised child process: start, wait until ready, watch, restart, stop.

Every way a child can end is named (see ``describe_exit``) so the log says why
it went: "exited normally", "failed with exit status 3", "killed by SIGKILL".
A child that dies while the supervisor is not stopping is started again after a
backoff that grows with quick repeated failures and resets once it stayed up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from backend.local.keys import ENV_VARS
from backend.local.logs import child_output_logger, close_logger
from backend.supervisor.die_with_parent import preexec_for_parent
from backend.supervisor.port_owner import foreign_listener

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.25
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # seconds up before the backoff starts again from the first step
TAIL_LINES = 20
# Whatever a child writes (Temporal's database and its WAL, Redis's append-only
# file) is the user's alone.
CHILD_UMASK = 0o077


class ChildFailed(RuntimeError):
    """A child did not become ready; the message says which, why, and where the log is."""


class ChildExited(ChildFailed):
    """The child ended by itself before it was ready (no other program held its port)."""


@dataclass
class ChildSpec:
    name: str  # "temporal", "redis", "worker": also the log file's name
    argv: list[str]
    # Waits until the child serves; raises if it cannot. Called after every (re)start.
    probe: Callable[[ChildProcess], Awaitable[None]]
    ready_timeout: float
    env: dict[str, str] | None = None
    cwd: Path | None = None
    stop_timeout: float = 5.0
    # TCP ports the child was told to listen on: once it serves, nothing else may.
    ports: tuple[int, ...] = ()
    # Only the worker calls models; no other child gets the API keys' variables.
    api_keys: bool = False
    # Descriptors the child inherits (a listening socket the supervisor holds for it).
    pass_fds: tuple[int, ...] = ()
    # Starts tried when the child exits before it is ready, for a child whose start
    # can fail by chance.
    start_tries: int = 1


def child_environ(spec: ChildSpec) -> dict[str, str]:
    """The supervisor's environment, without API keys unless the child calls models,
    plus the spec's own variables."""
    env = {k: v for k, v in os.environ.items() if spec.api_keys or k not in ENV_VARS}
    env.update(spec.env or {})
    return env


def describe_exit(returncode: int) -> str:
    if returncode == 0:
        return "exited normally"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"failed with exit status {returncode}"


@dataclass
class ChildProcess:
    spec: ChildSpec
    log_dir: Path
    on_started: Callable[[ChildProcess], None] | None = None
    process: asyncio.subprocess.Process | None = None
    ready: bool = False
    restarts: int = 0
    _stopping: bool = False
    _lines: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    _line_waiters: list[tuple[Callable[[str], bool], asyncio.Future[str]]] = field(
        default_factory=list
    )
    _pumps: list[asyncio.Task[None]] = field(default_factory=list)
    _watch: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self._output = child_output_logger(self.log_dir, self.spec.name)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.spec.name}.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def create_time(self) -> float:
        assert self.process is not None
        return psutil.Process(self.process.pid).create_time()

    # -- starting ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the child and return once its probe says it serves.

        Raises ChildFailed (after killing it) when it exits or times out first; a child
        that exits is started again, up to ``spec.start_tries`` times in all.
        """
        for attempt in range(1, self.spec.start_tries + 1):
            try:
                await self._start_once()
                return
            except ChildExited as exc:
                if attempt == self.spec.start_tries:
                    raise
                log.warning("%s; starting it again", str(exc).splitlines()[0])

    async def _start_once(self) -> None:
        self._lines.clear()
        self.ready = False
        env = child_environ(self.spec)
        self._output.info("--- starting: %s", " ".join(self.spec.argv))
        self.process = await asyncio.create_subprocess_exec(
            *self.spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=self.spec.cwd,
            # Its own session: a Ctrl+C in the terminal reaches the supervisor only,
            # which then stops the children in order.
            start_new_session=True,
            preexec_fn=preexec_for_parent(os.getpid()),
            umask=CHILD_UMASK,
            pass_fds=self.spec.pass_fds,
        )
        assert self.process.stdout and self.process.stderr
        self._pumps = [
            asyncio.create_task(self._pump(self.process.stdout)),
            asyncio.create_task(self._pump(self.process.stderr)),
        ]
        exited = asyncio.create_task(self.process.wait())
        probe = asyncio.create_task(self.spec.probe(self))
        pid = self.process.pid
        failure: str | None = None
        try:
            done, _ = await asyncio.wait(
                {exited, probe},
                timeout=self.spec.ready_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if probe in done and probe.exception() is None:
                taken = await asyncio.to_thread(foreign_listener, pid, self.spec.ports)
                if taken is None:
                    self.ready = True
                    log.info("%s is ready (pid %s)", self.name, self.pid)
                    if self.on_started:
                        self.on_started(self)
                    return
                failure = f"{self.name}: {taken}"
            elif exited in done:
                await asyncio.sleep(0.05)  # let the pumps catch the last lines
                reason = describe_exit(exited.result())
            elif probe in done:
                reason = f"did not become ready: {probe.exception()}"
            else:
                reason = f"was not ready after {self.spec.ready_timeout:.0f} s"
        finally:
            for task in (exited, probe):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        await self._kill()
        if failure is None:
            # A child that could not bind its port: who holds the port is the news.
            taken = await asyncio.to_thread(foreign_listener, pid, self.spec.ports)
            if taken is not None:
                failure = f"{self.name}: {taken}"
            else:
                tail = "\n".join(f"    {line}" for line in self._lines)
                failure = f"{self.name} {reason}; see {self.log_file}" + (
                    f"\n{tail}" if tail else ""
                )
                if exited.done() and not exited.cancelled():
                    raise ChildExited(failure)
        raise ChildFailed(failure)

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the stream limit
                raw = await stream.read(64 * 1024)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._lines.append(line)
            self._output.info("%s", line)
            for predicate, fut in list(self._line_waiters):
                if not fut.done() and predicate(line):
                    fut.set_result(line)

    async def wait_for_line(self, predicate: Callable[[str], bool]) -> str:
        """Wait for an output line (stdout or stderr) matching ``predicate``, or take
        one that came already: a fast child may print before anyone waits."""
        for line in self._lines:
            if predicate(line):
                return line
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self._line_waiters.append(entry)
        try:
            return await fut
        finally:
            self._line_waiters.remove(entry)

    # -- watching -----------------------------------------------------------------

    def watch(self) -> None:
        """From now on, restart the child whenever it dies unexpectedly."""
        self._watch = asyncio.create_task(self._watch_loop(), name=f"watch-{self.name}")

    async def _watch_loop(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stopping:
            assert self.process is not None
            started = time.monotonic()
            code = await self.process.wait()
            self.ready = False
            if self._stopping:
                return
            if time.monotonic() - started >= STABLE_AFTER:
                backoff = BACKOFF_FIRST
            log.warning(
                "%s (pid %s) %s; restarting in %.2f s",
                self.name,
                self.pid,
                describe_exit(code),
                backoff,
            )
            self._output.info("--- %s", describe_exit(code))
            while not self._stopping:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                if self._stopping:
                    return
                try:
                    await self.start()
                    self.restarts += 1
                    break
                except ChildFailed as exc:
                    log.warning(
                        "restarting %s failed: %s; next try in %.2f s", self.name, exc, backoff
                    )

    # -- stopping -----------------------------------------------------------------

    async def stop(self) -> None:
        """Ask the child to stop (SIGTERM), then kill it if it takes too long."""
        self._stopping = True
        if self._watch:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc = self.process
        if proc and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), self.spec.stop_timeout)
            except TimeoutError:
                log.warning(
                    "%s did not stop within %.0f s; killing it", self.name, self.spec.stop_timeout
                )
                await self._kill()
        if proc:
            self._output.info("--- stopped: %s", describe_exit(proc.returncode or 0))
        await self._finish_pumps()
        self.ready = False
        close_logger(self._output)

    async def _kill(self) -> None:
        proc = self.process
        if proc and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        await self._finish_pumps()

    async def _finish_pumps(self) -> None:
        for task in self._pumps:
            try:
                await asyncio.wait_for(task, 1.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._pumps = []
