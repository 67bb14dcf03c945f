"""A long conversation opens with its newest page and reads older ones as the user
scrolls up: no backend, a store made here, the session and the transcript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from backend.client.store import ConversationStore
from backend.client.store_types import ExportedConversation
from backend.local.paths import DataDir
from desktop.bench.long_conversation import long_conversation
from desktop.chat.transcript_view import MAX_BUILT, TranscriptView, TurnWidget
from desktop.session import PAGE_TURNS, ChatSession
from tests.desktop.conftest import until

TURNS = 500


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").ensure()


def stored(data: DataDir, conv: ExportedConversation) -> list[str]:
    with ConversationStore.in_data_dir(data.root) as store:
        store.import_conversation(conv)
    return [t.turn_id for t in conv.turns]


@pytest.fixture
def long_one(data: DataDir) -> tuple[str, list[str]]:
    conv = long_conversation(TURNS)
    conv.context_starts_at = conv.turns[40].turn_id  # far above the first page
    return conv.conversation_id, stored(data, conv)


@pytest.fixture
def session(data: DataDir, loop: qasync.QEventLoop) -> Iterator[ChatSession]:
    chat = ChatSession(data)
    yield chat
    chat.close()


@pytest.fixture
def view(session: ChatSession, qtbot: QtBot) -> TranscriptView:
    transcript = TranscriptView(session.model)
    qtbot.addWidget(transcript)
    transcript.resize(900, 700)
    transcript.show()
    qtbot.waitExposed(transcript)
    return transcript


def opened(
    loop: qasync.QEventLoop, session: ChatSession, view: TranscriptView, cid: str, newest: str
) -> None:
    session.open_conversation(cid)
    loop.run_until_complete(until(lambda: newest in view.widgets, 10, "the newest turn built"))


def in_sight(view: TranscriptView, widget: TurnWidget) -> bool:
    top = view.verticalScrollBar().value()
    return widget.y() < top + view.viewport().height() and widget.y() + widget.height() > top


def top_in_sight(view: TranscriptView) -> tuple[TurnWidget, int]:
    top = view.verticalScrollBar().value()
    widget = next(w for w in (view.widgets[t] for t in view.built) if w.y() + w.height() > top)
    return widget, widget.y() - top


def test_opening_builds_a_page_and_shows_the_newest_turn(
    loop: qasync.QEventLoop,
    session: ChatSession,
    view: TranscriptView,
    long_one: tuple[str, list[str]],
) -> None:
    cid, ids = long_one
    opened(loop, session, view, cid, ids[-1])
    loop.run_until_complete(until(lambda: in_sight(view, view.widgets[ids[-1]]), 5, "in sight"))
    assert list(session.model.turns) == ids[-PAGE_TURNS:]
    assert session.model.earlier_turns == TURNS - PAGE_TURNS
    assert 0 < len(view.widgets) <= PAGE_TURNS
    assert view.built == ids[-len(view.built) :]  # the newest, in order
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum()  # at the bottom, following
    assert not view.top_note.isHidden()  # older turns to come


def test_scrolling_to_the_top_loads_every_older_page_in_order_without_jumps(
    loop: qasync.QEventLoop,
    session: ChatSession,
    view: TranscriptView,
    long_one: tuple[str, list[str]],
) -> None:
    cid, ids = long_one
    opened(loop, session, view, cid, ids[-1])
    bar = view.verticalScrollBar()
    prepends = 0
    while ids[0] not in view.widgets:
        bar.setValue(bar.minimum())
        widget, y = top_in_sight(view)
        first = view.built[0]
        loop.run_until_complete(
            until(lambda first=first: view.built[0] != first, 10, "older turns built")
        )
        prepends += 1
        # What the user saw stays where it was.
        assert view.widgets.get(widget.turn_id) is widget
        assert widget.y() - bar.value() == y
        assert prepends < TURNS
    assert list(session.model.turns) == ids  # every turn once, in order
    order = list(session.model.turns)
    start = order.index(view.built[0])
    assert view.built == order[start : start + len(view.built)]  # a run, in order
    assert len(view.widgets) <= MAX_BUILT + 6  # far ones let go
    assert not session.model.has_older and not session.model.loading_older
    loop.run_until_complete(until(lambda: view.top_note.isHidden(), 5, "no note at the top"))
    # The context marker shows on its turn, loaded with an older page.
    assert session.model.turns[ids[40]].context_starts_here
    assert [t for t, item in session.model.turns.items() if item.context_starts_here] == [ids[40]]
    # Back down: the newest turn is built again.
    for _ in range(TURNS):
        if ids[-1] in view.widgets and bar.value() == bar.maximum():
            break
        bar.setValue(bar.maximum())
        last = view.built[-1]
        loop.run_until_complete(
            until(
                lambda last=last: view.built[-1] != last or ids[-1] in view.widgets,
                10,
                "newer built",
            )
        )
    assert ids[-1] in view.widgets


def test_switching_conversations_mid_load_shows_only_the_new_one(
    loop: qasync.QEventLoop,
    session: ChatSession,
    view: TranscriptView,
    long_one: tuple[str, list[str]],
    data: DataDir,
) -> None:
    cid, ids = long_one
    other = long_conversation(5, seed=3)
    other_ids = stored(data, other)
    opened(loop, session, view, cid, ids[-1])
    first_page = set(ids[-PAGE_TURNS:])
    # The page before the first loaded turn asked for (as scrolling up to it does),
    # and another conversation opened before it is read.
    session.model.request_older()
    assert session.model.loading_older and session._older_timer.isActive()
    assert set(session.model.turns) == first_page
    opened(loop, session, view, other.conversation_id, other_ids[-1])
    loop.run_until_complete(until(lambda: not session._older_timer.isActive(), 5, "read done"))
    loop.run_until_complete(until(lambda: view.built == other_ids, 5, "the new one built"))
    assert list(session.model.turns) == other_ids
    assert set(view.widgets) == set(other_ids)
    assert view.top_note.isHidden()  # nothing older in a short one


def test_a_turn_added_live_appears_at_the_bottom(
    loop: qasync.QEventLoop,
    session: ChatSession,
    view: TranscriptView,
    long_one: tuple[str, list[str]],
) -> None:
    cid, ids = long_one
    opened(loop, session, view, cid, ids[-1])
    bar = view.verticalScrollBar()
    session.model.add_pending("live-1", "Just sent")
    session.model.flush()
    assert view.built[-1] == "live-1" and view.widgets["live-1"].user_text == "Just sent"
    loop.run_until_complete(until(lambda: in_sight(view, view.widgets["live-1"]), 5, "shown"))
    assert bar.value() == bar.maximum()
    assert view.widgets["live-1"].is_last and not view.widgets[ids[-1]].is_last

    # Far up (the newest let go), a message sent brings the view back to the newest.
    for _ in range(TURNS):
        if "live-1" not in view.widgets:
            break
        bar.setValue(0)
        first = view.built[0]
        loop.run_until_complete(
            until(lambda first=first: view.built[0] != first, 10, "older turns built")
        )
    assert "live-1" not in view.widgets
    session.model.add_pending("live-2", "Sent from far up")
    session.model.flush()
    assert view.built[-2:] == ["live-1", "live-2"]
    loop.run_until_complete(until(lambda: in_sight(view, view.widgets["live-2"]), 5, "shown"))
    assert list(session.model.turns)[-2:] == ["live-1", "live-2"]
