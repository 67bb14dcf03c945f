"""A private session D-Bus (a real ``dbus-daemon``) with the stand-in notification
service on it, for tests of desktop notifications."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tests.support.serve_process import child_env


@dataclass
class NotificationService:
    bus_address: str
    process: subprocess.Popen[str]

    def next_notification(self) -> dict[str, Any]:
        """The next notification the service was given (blocks until one comes; the
        test's timeout bounds it)."""
        return _read_json(self.process.stdout)

    def click(self, notification_id: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"click {notification_id}\n")
        self.process.stdin.flush()


def _read_json(stream: TextIO | None) -> dict[str, Any]:
    assert stream is not None
    line = stream.readline()
    assert line, "the stand-in notification service exited"
    record: dict[str, Any] = json.loads(line)
    return record


@contextmanager
def notification_service(tmp: Path) -> Iterator[NotificationService]:
    socket = tmp / "bus"
    daemon = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address=unix:path={socket}",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), address
        env = {**child_env(), "DBUS_SESSION_BUS_ADDRESS": address}
        service = subprocess.Popen(
            [sys.executable, "-m", "tests.support.notification_service"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert _read_json(service.stdout) == {"ready": True}
            yield NotificationService(address, service)
        finally:
            service.kill()
            service.wait(10)
    finally:
        daemon.kill()
        daemon.wait(10)
