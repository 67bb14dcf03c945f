"""Background jobs of the window as asyncio tasks on the Qt event loop (qasync).

A named job has one task at a time: starting it again cancels the older one, as a
user expects when a newer request makes the older moot (opening conversation B
while A loads). Unnamed tasks run side by side. All of them end on ``cancel_all``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

log = logging.getLogger(__name__)


class Jobs:
    def __init__(self, on_failure: Callable[[BaseException], None]) -> None:
        """``on_failure``: told of a task that raised (a bug, or an error nobody
        caught), after it is logged with its traceback."""
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[Any]] = set()
        self._named: dict[str, asyncio.Task[Any]] = {}
        self.closing = False

    def spawn(
        self, coro: Coroutine[Any, Any, Any], job: str | None = None
    ) -> asyncio.Task[Any] | None:
        """Run ``coro`` as a task (none once closing: the coroutine is closed unrun)."""
        if self.closing:
            coro.close()
            return None
        if job is not None:
            self.cancel(job)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        if job is not None:
            self._named[job] = task
        task.add_done_callback(partial(self._done, job))
        return task

    def cancel(self, job: str) -> None:
        older = self._named.pop(job, None)
        if older is not None:
            older.cancel()

    def running(self, job: str) -> bool:
        task = self._named.get(job)
        return task is not None and not task.done()

    def _done(self, job: str | None, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if job is not None and self._named.get(job) is task:
            del self._named[job]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task failed", exc_info=exc)
            self._on_failure(exc)

    def stop_all(self) -> list[asyncio.Task[Any]]:
        """Start nothing new; cancel every task. Returns them, to await."""
        self.closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    async def cancel_all(self) -> None:
        """Start nothing new; cancel every task and wait until each has ended."""
        await asyncio.gather(*self.stop_all(), return_exceptions=True)
