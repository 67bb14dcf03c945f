"""One window per data dir: a second launch brings the running window to the front.

The running window listens on a QLocalServer named after its data dir; a second
launch connects, asks it to show itself, and exits. The data dir's file lock
stays the real guard: two launches racing past this check still get only one
backend (the other window says the data dir is busy).
"""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from backend.paths import DataDir

SHOW = b"show\n"
CONNECT_TIMEOUT_MS = 500


def server_name(data: DataDir) -> str:
    digest = hashlib.sha256(str(data.root.resolve()).encode()).hexdigest()[:16]
    return f"durachat-window-{digest}"


def ask_running_window_to_show(data: DataDir) -> bool:
    """True when a window already runs on ``data`` (it was asked to come to the front)."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(data))
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(SHOW)
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Held by the running window; emits ``show_requested`` when launched again."""

    show_requested = Signal()

    def __init__(self, data: DataDir, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        name = server_name(data)
        # A window killed with SIGKILL leaves its socket file behind: remove it. Two
        # launches racing here may take the socket from each other; the data dir's
        # lock still lets only one of them run the backend.
        QLocalServer.removeServer(name)
        self.listening = self._server.listen(name)

    def _on_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(SHOW.strip()):
            self.show_requested.emit()

    def close(self) -> None:
        self._server.close()
