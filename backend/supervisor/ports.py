"""Free loopback ports for the children, chosen at start."""

from __future__ import annotations

import contextlib
import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port the OS considers free right now on ``host``.

    Only for a child that takes a port number and nothing else (Temporal, the demo
    model, Redis when its socket path is too long): between closing this socket and
    the child binding the port, another program can take it. Nothing here can close
    that window, so once the child serves, the supervisor checks that the listener
    on the port is the child's (port_owner.py). Redis avoids ports altogether on a
    unix socket.
    """
    (port,) = free_ports(1, host)
    return port


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` different ports, all free right now on ``host``.

    Each socket stays bound until every port is chosen, so the OS cannot hand out the
    same port twice. Listeners of the supervisor's own (bound to port 0) must be bound
    before this, or the OS may give them a port chosen here once it is released.
    """
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            s = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind((host, 0))
            ports.append(s.getsockname()[1])
        return ports


def parse_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host, int(port)
