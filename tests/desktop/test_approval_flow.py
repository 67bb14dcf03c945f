"""Tool calls waiting for approval, as the window finds them in the store (a real one):
the conversation list's marks, the card of a wait begun before the window opened, a
decision that cannot be sent, and the desktop notification (through a real session
D-Bus to the stand-in service) when one begins while the user looks elsewhere."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.client.store import ConversationStore
from backend.local.paths import DataDir
from backend.workflows.conversation_types import PendingApproval, Turn
from desktop.main_window import MainWindow
from tests.desktop.conftest import Emissions, until
from tests.support.session_bus import NotificationService, notification_service


def waiting_turn(data: DataDir, conversation_id: str, call_id: str, server: str | None) -> None:
    """A conversation whose reply waits for the user's decision on one tool call, as the
    backend leaves it in the store."""
    now = time.time()
    with ConversationStore.in_data_dir(data.root) as store:
        store.add_message(conversation_id, f"turn-{call_id}", "do it", at=now, delivered=True)
        store.record_turn(
            conversation_id,
            Turn(turn_id=f"turn-{call_id}", user_text="do it", status="running", started_at=now),
        )
        store.add_approval(
            PendingApproval(
                conversation_id=conversation_id,
                turn_id=f"turn-{call_id}",
                call_id=call_id,
                tool="append_line",
                server=server,
                arguments='{"text": "x"}',
                requested_at=now,
            )
        )


def settle_in_store(data: DataDir, conversation_id: str, call_id: str) -> None:
    with ConversationStore.in_data_dir(data.root) as store:
        store.remove_approval(conversation_id, call_id)


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationService]:
    with notification_service(tmp_path) as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        yield service


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").ensure()


@pytest.fixture
def offline(data: DataDir, loop: qasync.QEventLoop) -> Iterator[MainWindow]:
    """A window on the store alone (no backend started), the user looking elsewhere."""
    waiting_turn(data, "conversation-a", "call-a", "myserver")
    win = MainWindow(data, supervise=False)
    win.reply_watch.is_active = lambda: False
    win.show()
    yield win
    loop.run_until_complete(win.reply_watch.close())
    win.close()
    win.deleteLater()


def test_a_wait_from_before_the_window_is_marked_and_shows_its_card(
    offline: MainWindow, data: DataDir, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    win = offline
    requested = Emissions(win.session.approval_requested)
    changed = Emissions(win.session.approvals_changed)
    decisions = Emissions(win.session.decision_done)
    win.session.start()
    listing = win.conversation_list
    assert listing.ids() == ["conversation-a"] and listing.is_waiting("conversation-a")
    assert "waiting for your approval" in listing.state_of("conversation-a").accessible_text()
    (waiting,) = changed.seen[-1]
    assert [p.call_id for p in waiting] == ["call-a"]
    assert requested.seen == []  # waiting already when the window opened: no news

    async def scenario() -> None:
        win.open_conversation("conversation-a")
        await until(lambda: win.transcript.approval_card("call-a") is not None, 10, "card")
        card = win.transcript.approval_card("call-a")
        assert card is not None and card.isVisible() and card.source_chip.text() == "myserver"
        # No backend: the decision is not sent, and the card says so and stays usable.
        qtbot.mouseClick(card.allow_button, Qt.MouseButton.LeftButton)
        call_id, error = await decisions.wait_for(what="the decision's outcome")
        assert call_id == "call-a" and error == "Not sent: the backend is not connected yet"
        assert card.error_label.isVisible() and card.error_label.full == error
        assert card.allow_button.isEnabled() and win.status_label.text() == error

        # Decided elsewhere (the CLI, another window): the store no longer lists it.
        settle_in_store(data, "conversation-a", "call-a")
        win.session.refresh_soon()
        await until(lambda: not listing.is_waiting("conversation-a"), 10, "mark cleared")

    loop.run_until_complete(scenario())


def test_a_wait_beginning_unseen_pops_a_notification_that_opens_its_conversation(
    bus: NotificationService,
    offline: MainWindow,
    data: DataDir,
    loop: qasync.QEventLoop,
) -> None:
    win = offline
    win.session.start()
    shown = Emissions(win.notifier.shown)

    async def scenario() -> None:
        # A reply generating in another conversation starts waiting: the list's next
        # read (it reads the store while replies run elsewhere) finds it.
        waiting_turn(data, "conversation-b", "call-b", None)
        win.session.refresh_soon()
        (note,) = await shown.wait_for(what="a notification")
        assert note.conversation_id == "conversation-b"
        assert win.conversation_list.is_waiting("conversation-b")
        popped = bus.next_notification()
        assert popped["summary"] == "DuraChat wants to run append_line"
        assert popped["body"].startswith("A built-in tool, in “do it”")
        # Read again: told once only.
        win.session.refresh_soon()
        await until(lambda: win.session.approvals.keys() >= {"call-a", "call-b"}, 5, "read")
        bus.click(popped["id"])
        await until(lambda: win.conversation_id == "conversation-b", 10, "opened")
        await until(lambda: win.transcript.approval_card("call-b") is not None, 10, "card")
        assert len(shown.seen) == 1

    loop.run_until_complete(scenario())
