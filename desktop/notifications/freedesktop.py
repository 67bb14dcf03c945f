"""The freedesktop notification service (``org.freedesktop.Notifications``) over the
session D-Bus, with jeepney (pure Python, asyncio; keyring already brings it on Linux).

Qt's own route, ``QSystemTrayIcon.showMessage``, needs a tray icon on screen and
reports no click on most Linux desktops; the D-Bus service is what GNOME, KDE and
the others show, and it says which notification was clicked (``ActionInvoked``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable

from jeepney import DBusAddress, MatchRule, MessageType, message_bus, new_method_call
from jeepney.io.asyncio import DBusRouter, Proxy, open_dbus_router
from jeepney.wrappers import DBusErrorResponse

log = logging.getLogger(__name__)

SERVICE = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
# The action a click on the notification's body invokes (the specification's name).
DEFAULT_ACTION = "default"
APP_NAME = "DuraChat"
CONNECT_TIMEOUT_S = 5


class NotificationsUnavailable(RuntimeError):
    """No session bus, or no notification service on it."""


class FreedesktopNotifications:
    """One session-bus connection: ``notify`` shows a notification; a click on one calls
    ``on_click`` with its id."""

    def __init__(self, on_click: Callable[[int], None]) -> None:
        self._on_click = on_click
        self._opener: open_dbus_router | None = None
        self._router: DBusRouter | None = None
        self._listener: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Connect, and check a notification service is there; raises
        NotificationsUnavailable saying why not."""
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            raise NotificationsUnavailable("no session D-Bus (DBUS_SESSION_BUS_ADDRESS unset)")
        opener = open_dbus_router("SESSION")
        try:
            router = await asyncio.wait_for(opener.__aenter__(), CONNECT_TIMEOUT_S)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            raise NotificationsUnavailable(f"the session D-Bus is not reachable: {exc}") from exc
        self._opener, self._router = opener, router
        bus = Proxy(message_bus, router)
        (has_owner,) = await bus.NameHasOwner(SERVICE.bus_name)
        if not has_owner:
            await self.close()
            raise NotificationsUnavailable("no notification service on the session D-Bus")
        clicks = MatchRule(
            type="signal",
            interface=SERVICE.interface,
            member="ActionInvoked",
            path=SERVICE.object_path,
        )
        await bus.AddMatch(clicks)
        self._listener = asyncio.ensure_future(self._listen(router, clicks))

    async def notify(self, summary: str, body: str, icon: str = "") -> int:
        """Show a notification; its id (what a click reports)."""
        if self._router is None:
            raise NotificationsUnavailable("not connected")
        call = new_method_call(
            SERVICE,
            "Notify",
            "susssasa{sv}i",
            (APP_NAME, 0, icon, summary, body, [DEFAULT_ACTION, "Open"], {}, -1),
        )
        reply = await self._router.send_and_get_reply(call)
        if reply.header.message_type == MessageType.error:
            raise NotificationsUnavailable(f"the notification service refused: {reply.body}")
        (notification_id,) = reply.body
        return int(notification_id)

    async def _listen(self, router: DBusRouter, rule: MatchRule) -> None:
        with router.filter(rule, bufsize=16) as queue:
            while True:
                message = await queue.get()
                notification_id, action = message.body
                if action == DEFAULT_ACTION:
                    self._on_click(int(notification_id))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._opener is not None:
            with contextlib.suppress(OSError, DBusErrorResponse):
                await self._opener.__aexit__(None, None, None)
            self._opener = self._router = None
