"""Is the listener on a child's port really that child?

A port is chosen free and handed to the child by number (Temporal, Redis on TCP and
the demo model accept nothing else), so another program can take it in between,
or while a crashed child is being restarted. Clients would then talk to that
program: the Redis password, conversations and model calls would go to it. So once
a child serves, every listener on its ports must belong to the child or its
descendants. Any listener counts, on any local address: ``localhost`` may resolve
to ``::1`` as well as 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import psutil

log = logging.getLogger(__name__)


def _process_tree(pid: int) -> set[int]:
    try:
        return {pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))}
    except psutil.NoSuchProcess:
        return {pid}


def _describe(pid: int | None) -> str:
    if pid is None:
        # What a process of another user looks like to an ordinary user.
        return "a process of another user"
    try:
        return f"another program ({psutil.Process(pid).name()}, pid {pid})"
    except psutil.Error:
        return f"another program (pid {pid})"


def foreign_listener(pid: int, ports: Iterable[int]) -> str | None:
    """One line naming the first of ``ports`` that something other than ``pid`` (and its
    descendants) listens on, or None when all of them are the child's or free."""
    wanted = set(ports)
    if not wanted:
        return None
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        # macOS lists other processes' sockets to root only. The child's own start
        # still fails if it cannot bind; only a port shared with it goes unseen.
        log.debug("cannot list listening sockets; the owner of ports %s is not checked", wanted)
        return None
    tree = _process_tree(pid)
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or conn.laddr.port not in wanted:
            continue
        if conn.pid not in tree:
            return (
                f"port {conn.laddr.port} ({conn.laddr.ip}) is taken by {_describe(conn.pid)}, "
                "not by the child DuraChat started on it; start DuraChat again to choose new ports"
            )
    return None
