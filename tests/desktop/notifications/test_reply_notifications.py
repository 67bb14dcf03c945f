"""Replies that end while the user looks elsewhere pop a desktop notification, through
a real session D-Bus to a stand-in notification service, from a window on a real
backend; a click on it brings the window to that conversation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from backend.workflows.conversation_types import title_from
from desktop.main_window import MainWindow
from desktop.notifications.notifier import Notification
from tests.desktop.conftest import Emissions, SettledTurns, type_and_send, until
from tests.support.session_bus import NotificationService, notification_service


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationService]:
    with notification_service(tmp_path) as service:
        # Before the window (and its notifier) starts: it connects to this bus.
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        yield service


@pytest.fixture
def watched(bus: NotificationService, window: MainWindow) -> MainWindow:
    """The window (started after the bus), the user looking elsewhere."""
    window.reply_watch.is_active = lambda: False
    return window


async def reply(win: MainWindow, qtbot: QtBot, text: str, status: str = "done") -> tuple[str, str]:
    """Send ``text`` in a new conversation; its id and turn id once the turn settled."""
    settled = SettledTurns(win.session)
    type_and_send(qtbot, win, text)
    (turn_id,) = win.model.turns
    assert await settled.status_of(turn_id) == status
    assert win.conversation_id is not None
    return win.conversation_id, turn_id


def test_a_reply_finishing_unseen_pops_its_title_and_first_words(
    bus: NotificationService, watched: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    message = "owls at night [demo tokens=6]"

    async def scenario() -> dict[str, Any]:
        shown = Emissions(watched.notifier.shown)
        conversation_id, _turn = await reply(watched, qtbot, message)
        (note,) = await shown.wait_for(what="a notification")
        assert isinstance(note, Notification) and note.conversation_id == conversation_id
        return bus.next_notification()

    popped = loop.run_until_complete(scenario())
    assert popped["app"] == "DuraChat"
    assert popped["summary"] == title_from(message)
    assert popped["body"] == "w1 w2 w3 w4 w5 w6"


def test_a_failed_reply_pops_reply_failed_with_the_error(
    bus: NotificationService, watched: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    message = "[demo fault=401]"

    async def scenario() -> dict[str, Any]:
        shown = Emissions(watched.notifier.shown)
        await reply(watched, qtbot, message, "failed")
        await shown.wait_for(what="a notification")
        return bus.next_notification()

    popped = loop.run_until_complete(scenario())
    assert popped["summary"] == f"Reply failed: {title_from(message)}"
    assert "rejected the API key" in popped["body"] and "401" in popped["body"]


def test_a_reply_finishing_while_the_window_is_active_pops_nothing(
    bus: NotificationService, window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    looking = [True]
    window.reply_watch.is_active = lambda: looking[0]

    async def scenario() -> None:
        shown = Emissions(window.notifier.shown)
        seen, _turn = await reply(window, qtbot, "seen as it came [demo tokens=3]")
        # Then one the user does not see: the only notification is that one, so none
        # was on its way for the first (the D-Bus calls go out in order).
        looking[0] = False
        window.new_conversation()
        unseen, _turn = await reply(window, qtbot, "unseen [demo tokens=2]")
        await shown.wait_for(what="the second reply's notification")
        assert [args[0].conversation_id for args in shown.seen] == [unseen]
        assert seen != unseen

    loop.run_until_complete(scenario())
    assert bus.next_notification()["summary"] == title_from("unseen [demo tokens=2]")


def test_a_reply_ending_in_a_conversation_left_open_elsewhere_is_told_too(
    bus: NotificationService, watched: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    message = "a slow one [demo tokens=40 tps=40]"

    async def scenario() -> dict[str, Any]:
        shown = Emissions(watched.notifier.shown)
        started = Emissions(watched.session.turn_started)
        type_and_send(qtbot, watched, message)
        conversation_id, _turn = await started.wait_for(what="the reply followed")
        watched.new_conversation()  # the reply goes on, unseen, in the list only
        (note,) = await shown.wait_for(timeout=30, what="a notification")
        assert note.conversation_id == conversation_id
        return bus.next_notification()

    popped = loop.run_until_complete(scenario())
    assert popped["summary"] == title_from(message)
    assert popped["body"].startswith("w1 w2 w3")


def test_clicking_the_notification_opens_its_conversation(
    bus: NotificationService, watched: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    async def scenario() -> None:
        shown = Emissions(watched.notifier.shown)
        conversation_id, _turn = await reply(watched, qtbot, "click me [demo tokens=2]")
        await shown.wait_for(what="a notification")
        popped = bus.next_notification()
        watched.new_conversation()  # the user moved on meanwhile
        assert watched.conversation_id is None
        bus.click(popped["id"])
        await until(lambda: watched.conversation_id == conversation_id, 10, "opened")
        await until(lambda: watched.transcript.isVisible(), 5, "transcript shown")
        assert watched.conversation_list.current_id() == conversation_id
        assert watched.header.title == title_from("click me [demo tokens=2]")

    loop.run_until_complete(scenario())
