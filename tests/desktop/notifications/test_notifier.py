"""Desktop notifications through a real session D-Bus (a private ``dbus-daemon``) to a
stand-in of the desktop's notification service: what the user would see pop up, and
a click on it coming back as the conversation to open."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import qasync

from desktop.notifications.notifier import Notifier, reply_notification
from tests.support.session_bus import notification_service


async def _signal(signal, timeout: float = 10):  # type: ignore[no-untyped-def]
    """The first emission of ``signal``'s argument, waited for on the running loop."""
    future: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def take(value: object) -> None:
        if not future.done():
            future.set_result(value)

    signal.connect(take)
    try:
        return await asyncio.wait_for(future, timeout)
    finally:
        signal.disconnect(take)


def test_a_finished_reply_pops_up_and_a_click_opens_its_conversation(
    loop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with notification_service(tmp_path) as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        notifier = Notifier()
        shown: list[object] = []
        notifier.shown.connect(shown.append)
        reply = "Day one: the old town.  Day two: the coast\nand the lighthouse. " * 5
        note = reply_notification("conversation-1", "Trip to Lisbon", "done", reply)
        loop.run_until_complete(notifier.notify(note))

        popped = service.next_notification()
        assert popped["app"] == "DuraChat"
        assert popped["summary"] == "Trip to Lisbon"
        assert popped["body"].startswith("Day one: the old town. Day two: the coast and the")
        assert len(popped["body"]) <= 160 and popped["body"].endswith("…")
        assert "default" in popped["actions"]  # clicking the body is an action it reports
        assert shown == [note]

        async def click() -> object:
            service.click(popped["id"])
            return await _signal(notifier.activated)

        assert loop.run_until_complete(click()) == "conversation-1"
        loop.run_until_complete(notifier.close())


def test_a_failed_reply_says_so_in_its_summary(
    loop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with notification_service(tmp_path) as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        notifier = Notifier()
        failed = reply_notification(
            "conversation-2", "", "failed", "the provider rejected the API key: HTTP 401"
        )
        loop.run_until_complete(notifier.notify(failed))
        popped = service.next_notification()
        assert popped["summary"] == "Reply failed: New conversation"
        assert popped["body"] == "the provider rejected the API key: HTTP 401"
        loop.run_until_complete(notifier.close())


def test_with_no_notification_service_nothing_pops_up_and_it_says_why(
    loop: qasync.QEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    notifier = Notifier()
    shown: list[object] = []
    notifier.shown.connect(shown.append)
    loop.run_until_complete(notifier.notify(reply_notification("c", "t", "done", "x")))
    assert shown == []
    assert notifier.unavailable is not None and "session D-Bus" in notifier.unavailable
    loop.run_until_complete(notifier.close())
