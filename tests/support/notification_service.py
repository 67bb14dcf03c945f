"""A stand-in for the desktop's notification service, on a private session D-Bus.

The real one (GNOME Shell, KDE's plasmashell, dunst) cannot run here; this owns the
same name, ``org.freedesktop.Notifications``, answers ``Notify`` as they do, prints
each notification it is given as one JSON line on stdout, and clicks one when told
``click ID`` on stdin (it emits ``ActionInvoked(ID, "default")``, as a user's click
on the notification's body does). ``python -m tests.support.notification_service``
with ``DBUS_SESSION_BUS_ADDRESS`` set; it prints ``{"ready": true}`` once it owns the
name.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

from jeepney import MessageType, message_bus, new_error, new_method_return, new_signal
from jeepney.io.asyncio import open_dbus_connection

from desktop.notifications.freedesktop import SERVICE


def say(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


async def serve() -> None:
    conn = await open_dbus_connection("SESSION")
    await conn.send(message_bus.RequestName(SERVICE.bus_name, 4))  # DO_NOT_QUEUE
    ids = itertools.count(1)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def clicks() -> None:
        while line := await stdin.readline():
            command, _, arg = line.decode().strip().partition(" ")
            if command == "click":
                signal = new_signal(SERVICE, "ActionInvoked", "us", (int(arg), "default"))
                await conn.send(signal)

    clicking = asyncio.ensure_future(clicks())
    try:
        while True:
            msg = await conn.receive()
            kind, member = msg.header.message_type, msg.header.fields.get(3)  # 3: member
            if kind == MessageType.method_return and msg.body == (1,):
                say({"ready": True})  # RequestName: 1 = the primary owner now
            elif kind != MessageType.method_call:
                continue
            elif member == "Notify":
                app, _replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
                notification_id = next(ids)
                await conn.send(new_method_return(msg, "u", (notification_id,)))
                say(
                    {
                        "id": notification_id,
                        "app": app,
                        "summary": summary,
                        "body": body,
                        "actions": list(actions),
                    }
                )
            elif member == "GetCapabilities":
                await conn.send(new_method_return(msg, "as", (["actions", "body"],)))
            elif member == "GetServerInformation":
                info = ("stand-in", "DuraChat tests", "1", "1.2")
                await conn.send(new_method_return(msg, "ssss", info))
            elif member == "CloseNotification":
                await conn.send(new_method_return(msg))
            else:
                await conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
    finally:
        clicking.cancel()


if __name__ == "__main__":
    asyncio.run(serve())
