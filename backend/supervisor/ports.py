"""Free loopback ports for the children, chosen at start."""

from __future__ import annotations

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
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def parse_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host, int(port)
