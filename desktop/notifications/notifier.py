"""``Notifier``: tells the user a reply finished or failed, or a tool call waits for their
approval, while they looked elsewhere.

Where the platform shows notifications: the freedesktop service on Linux
(``freedesktop.py``), else a system tray message (Windows, macOS, a Linux desktop
with a tray but no notification service). With neither, nothing pops up: the
conversation list's unread mark still says it, and the log says why once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from desktop.notifications.freedesktop import FreedesktopNotifications, NotificationsUnavailable

log = logging.getLogger(__name__)

BODY_CHARS = 160  # a notification shows a line or two of the reply


@dataclass(frozen=True)
class Notification:
    conversation_id: str
    summary: str
    body: str


def reply_notification(conversation_id: str, title: str, status: str, text: str) -> Notification:
    """What to say of a reply that ended with ``status`` (done / failed / stopped)."""
    title = title or "New conversation"
    if status == "failed":
        summary = f"Reply failed: {title}"
    elif status == "stopped":
        summary = f"Reply stopped: {title}"
    else:
        summary = title
    body = " ".join(text.split())
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1] + "…"
    return Notification(conversation_id, summary, body)


def approval_notification(
    conversation_id: str, title: str, tool: str, server: str | None
) -> Notification:
    """What to say of a tool call that waits for the user's decision."""
    where = f"From the MCP server {server}" if server else "A built-in tool"
    return Notification(
        conversation_id,
        f"DuraChat wants to run {tool}",
        f"{where}, in “{title or 'New conversation'}”. Allow or deny it in the window.",
    )


class Notifier(QObject):
    shown = Signal(object)  # the Notification, once the platform took it
    activated = Signal(str)  # a conversation id: the user clicked its notification

    def __init__(self, icon: QIcon | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon or QIcon()
        self._dbus: FreedesktopNotifications | None = None
        self._tray: QSystemTrayIcon | None = None
        self._by_id: dict[int, str] = {}  # D-Bus notification id -> conversation id
        self._last_tray: str | None = None  # the conversation of the tray's last message
        self._ready: asyncio.Task[None] | None = None
        self.unavailable: str | None = None  # why nothing pops up, once known

    def start(self) -> None:
        """Find the platform's notifications (in the background)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        if sys.platform.startswith("linux"):
            dbus = FreedesktopNotifications(self._on_dbus_click)
            try:
                await dbus.open()
                self._dbus = dbus
                return
            except NotificationsUnavailable as exc:
                reason = str(exc)
        else:
            reason = "not Linux"
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            self._tray = QSystemTrayIcon(self._icon, self)
            self._tray.messageClicked.connect(self._on_tray_click)
            return
        self.unavailable = f"{reason}; no system tray either"
        log.info("desktop notifications are off: %s", self.unavailable)

    async def connected(self) -> None:
        """Once the platform's notifications were looked for (found or not)."""
        self.start()
        assert self._ready is not None
        await asyncio.shield(self._ready)

    async def notify(self, notification: Notification) -> None:
        """Show it, if the platform can; ``shown`` says it did."""
        await self.connected()
        if self._dbus is not None:
            try:
                notification_id = await self._dbus.notify(notification.summary, notification.body)
            except NotificationsUnavailable as exc:
                log.warning("could not show a notification: %s", exc)
                return
            self._by_id[notification_id] = notification.conversation_id
        elif self._tray is not None:
            self._tray.show()  # a tray message needs its icon on screen
            self._tray.showMessage(notification.summary, notification.body, self._icon)
            self._last_tray = notification.conversation_id
        else:
            return
        self.shown.emit(notification)

    def _on_dbus_click(self, notification_id: int) -> None:
        conversation_id = self._by_id.get(notification_id)
        if conversation_id is not None:
            self.activated.emit(conversation_id)

    def _on_tray_click(self) -> None:
        if self._last_tray is not None:
            self.activated.emit(self._last_tray)

    async def close(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
            await asyncio.gather(self._ready, return_exceptions=True)
        if self._dbus is not None:
            await self._dbus.close()
            self._dbus = None
        if self._tray is not None:
            self._tray.hide()
            self._tray = None
