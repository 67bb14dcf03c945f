"""One window per data dir: a second launch brings the running window to the front.

The running window listens on a QLocalServer named after its data dir; a second
launch connects, asks it to show itself, and exits. The data dir's file lock
stays the real guard: two launches racing past this check still get only one
backend (the other window says the data dir is busy).

On Unix the socket is a full path in a directory only this user can enter
(``$XDG_RUNTIME_DIR``, else the data dir): under a bare name Qt would put it in the
shared /tmp, where another user could take the name first and keep the window
from starting.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from backend.local.paths import DataDir

SHOW = b"show\n"
CONNECT_TIMEOUT_MS = 500


# sockaddr_un.sun_path is 108 bytes on Linux, 104 elsewhere; Qt needs two of them
# for itself.
MAX_SOCKET_PATH_BYTES = (108 if sys.platform.startswith("linux") else 104) - 2


def _private_dir(path: Path) -> bool:
    """A directory of this user's that no one else can enter."""
    try:
        st = path.stat()
    except OSError:
        return False
    return path.is_dir() and st.st_uid == os.geteuid() and not st.st_mode & 0o077


def _fits(path: Path) -> bool:
    return len(os.fsencode(path)) <= MAX_SOCKET_PATH_BYTES


def server_name(data: DataDir) -> str | None:
    """The window's socket for ``data``: a path in a private directory on Unix, a pipe
    name on Windows (private through UserAccessOption). None when no private
    directory has room for it: then every launch starts a window of its own."""
    digest = hashlib.sha256(str(data.root.resolve()).encode()).hexdigest()[:16]
    name = f"durachat-window-{digest}"
    if os.name != "posix":
        return name
    candidates = [data.root / "window.sock"]
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        candidates.insert(0, Path(runtime_dir) / f"{name}.sock")
    for path in candidates:
        if _private_dir(path.parent) and _fits(path):
            return str(path)
    return None


def ask_running_window_to_show(data: DataDir) -> bool:
    """True when a window already runs on ``data`` (it was asked to come to the front)."""
    name = server_name(data)
    if name is None:
        return False
    socket = QLocalSocket()
    socket.connectToServer(name)
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
        self._sockets: set[QLocalSocket] = set()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        name = server_name(data)
        self.listening = False
        if name is None:
            return
        # A window killed with SIGKILL leaves its socket file behind: remove it. Two
        # launches racing here may take the socket from each other; the data dir's
        # lock still lets only one of them run the backend.
        QLocalServer.removeServer(name)
        self.listening = self._server.listen(name)

    def _on_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            # Held here rather than as the server's children: PySide crashes when a
            # child still waiting for its deleteLater goes with a deleted server.
            socket.setParent(None)
            self._sockets.add(socket)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))

    def _forget(self, socket: QLocalSocket) -> None:
        if socket in self._sockets:
            self._sockets.discard(socket)
            socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(SHOW.strip()):
            self.show_requested.emit()

    def close(self) -> None:
        self._server.close()
        for socket in list(self._sockets):
            socket.abort()
            self._forget(socket)
