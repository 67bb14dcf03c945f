"""The window's link to its backend: start it (or find the one already running on the
data dir), watch its parts' health, stop it. No widgets: it says what happens
through signals, and the window shows it.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from backend.client.api import DuraChatClient
from backend.client.errors import DuraChatError
from backend.client.startup import start_backend
from backend.local.paths import DataDir
from backend.supervisor.supervisor import Supervisor, SupervisorOptions

log = logging.getLogger(__name__)

STARTING = "Starting Temporal / Redis / worker…"
CONNECTING = "Connecting to the backend…"
HEALTH_MS = 2000
# While the backend starts, each part lights up in the status bar as it becomes
# ready: the health is looked at often then, seldom once all is up.
HEALTH_WHILE_STARTING_MS = 100


class BackendLink(QObject):
    status_changed = Signal(str)  # a line for the status bar
    health_changed = Signal(dict)  # part name -> serving (empty: not supervised here)
    ready = Signal(object)  # the connected DuraChatClient
    failed = Signal(str)  # why it did not start or connect; start() tries again
    stopped = Signal()  # the client closed and the backend this link started stopped

    def __init__(
        self,
        data: DataDir,
        options: SupervisorOptions | None = None,
        supervise: bool = True,
        parent: QObject | None = None,
    ) -> None:
        """``supervise``: start (and on ``stop``, stop) the backend; otherwise connect
        to the one already running on ``data``."""
        super().__init__(parent)
        self.data = data
        self.options = options or SupervisorOptions(data_dir=data)
        self.supervise = supervise
        self.supervisor: Supervisor | None = None
        self.client: DuraChatClient | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(HEALTH_MS)
        self._health_timer.timeout.connect(self._report_health)

    @property
    def starting(self) -> bool:
        return self._start_task is not None and not self._start_task.done()

    def health(self) -> dict[str, bool]:
        """Which parts of the backend started here serve right now."""
        return self.supervisor.health() if self.supervisor is not None else {}

    def start(self) -> None:
        """Start (or connect); again after a failure. A second call while it starts, or
        once it is up, does nothing."""
        if self._stopping or self.starting or self.client is not None:
            return
        self._start_task = asyncio.ensure_future(self._start())
        self._start_task.add_done_callback(self._start_done)

    async def _start(self) -> None:
        self.status_changed.emit(STARTING if self.supervise else CONNECTING)
        try:
            if self.supervise:
                self.supervisor = Supervisor(self.options)
                self._health_timer.setInterval(HEALTH_WHILE_STARTING_MS)
                self._health_timer.start()
                self.client = await start_backend(self.supervisor)
            else:
                self.client = await DuraChatClient.connect(self.data)
        except DuraChatError as exc:
            self._fail(exc)
            return
        log.info(
            "backend ready (%s) on %s",
            "started by this window" if self.supervise else "already running",
            self.data.root,
        )
        self.status_changed.emit(f"Ready — data in {self.data.root}")
        self._health_timer.setInterval(HEALTH_MS)
        self._health_timer.start()
        self._report_health()
        self.ready.emit(self.client)

    def _start_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        # Not a failure the client API knows (a bug): logged with its traceback, and
        # the user can still try again.
        exc = task.exception()
        log.error("starting the backend failed", exc_info=exc)
        self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self._health_timer.stop()
        self._report_health()  # which parts came up and which did not
        self.supervisor = None  # a start that failed stopped what it had started
        why = str(exc) or type(exc).__name__
        self.failed.emit(
            f"The backend did not start: {why}  —  logs: {self.data.logs}"
            if self.supervise
            else f"Cannot connect to the backend: {why}"
        )

    def _report_health(self) -> None:
        self.health_changed.emit(self.health())

    async def stop(self) -> None:
        """Stop starting, close the client, stop the backend started here."""
        self._stopping = True
        self._health_timer.stop()
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()  # the supervisor stops what it had started
            await asyncio.gather(self._start_task, return_exceptions=True)
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.supervisor is not None:
            try:
                await self.supervisor.stop()
            except OSError:
                log.exception("stopping the backend failed")
            self.supervisor = None
        self.stopped.emit()
