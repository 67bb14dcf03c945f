"""Reaping children that a crashed earlier supervisor left running.

Only processes recorded in runtime.json whose pid *and* start time still match
are touched: a recycled pid belongs to someone else.
"""

from __future__ import annotations

import contextlib
import logging

import psutil

from backend.local.runtime_info import RuntimeInfo

log = logging.getLogger(__name__)

START_TIME_SLACK = 0.5  # seconds; psutil's create_time is rounded per platform


def reap_leftovers(previous: RuntimeInfo | None) -> list[int]:
    """Kill the recorded children of ``previous`` that are still alive; return their pids."""
    if previous is None:
        return []
    victims: list[psutil.Process] = []
    for name, record in previous.children.items():
        try:
            proc = psutil.Process(record.pid)
            if abs(proc.create_time() - record.create_time) > START_TIME_SLACK:
                continue
        except psutil.Error:
            continue
        log.warning("reaping %s (pid %s) left by an earlier run", name, record.pid)
        victims.append(proc)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=5)
    return [p.pid for p in victims]
