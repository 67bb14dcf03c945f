"""The conversation list's rows as a user sees them: one line each, elided, timed,
grouped by day, marked unread or generating; headers that take no clicks."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.client.api import ConversationSummary
from desktop.conversations.conversation_list import ConversationList

NOW = datetime(2025, 3, 12, 15, 30).timestamp()  # a Wednesday afternoon, local time
MINUTE, HOUR, DAY = 60, 3600, 86400
LONG_TITLE = (
    "Plan a three-day trip to Lisbon with a budget of about 800 euros, "
    "lots of seafood and at least one day trip to Sintra"
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def summary(cid: str, title: str, ago: float, running: bool = False) -> ConversationSummary:
    return ConversationSummary(cid, title, NOW - ago, running)


ROWS = [
    summary("trip", LONG_TITLE, 2 * MINUTE),
    summary("regex", "Regex for ISO dates", 3 * HOUR),
    summary("bread", "Sourdough schedule", DAY),
    summary("sql", "SQL window functions", 3 * DAY),
    summary("tax", "Tax questions", 40 * DAY),  # Jan 31
]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def listing(qtbot: QtBot, clock: Clock) -> ConversationList:
    widget = ConversationList(clock=clock)
    qtbot.addWidget(widget)
    widget.resize(300, 600)
    widget.show_conversations(ROWS)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def row_point(listing: ConversationList, cid: str, on_header: bool = False) -> QPoint:
    item = listing.items.item(listing.ids().index(cid))
    rect = listing.items.visualItemRect(item)
    y = rect.top() + 4 if on_header else rect.bottom() - 8
    return QPoint(rect.center().x(), y)


def test_a_long_title_is_elided_on_one_line_and_never_scrolls_sideways(
    listing: ConversationList, qtbot: QtBot
) -> None:
    for width in (300, 200, listing.minimumSizeHint().width()):
        listing.resize(width, 600)
        qtbot.waitUntil(lambda w=width: listing.width() == w)
        listing.items.grab()  # paint, as the screen would
        title, _time, _header = listing.shown_row("trip")
        assert title.endswith("…") and LONG_TITLE.startswith(title[:-1])
        assert listing.items.horizontalScrollBar().maximum() == 0
        assert not listing.items.horizontalScrollBar().isVisible()
        viewport = listing.items.viewport().width()
        for row in range(listing.items.count()):
            assert listing.items.visualItemRect(listing.items.item(row)).right() < viewport
    listing.resize(300, 600)
    qtbot.waitUntil(lambda: listing.width() == 300)
    assert listing.shown_row("regex")[0] == "Regex for ISO dates"  # a short one is whole
    # The full title is in the tooltip.
    assert LONG_TITLE in listing.items.item(0).toolTip()


def test_a_narrow_list_gives_the_time_room_to_the_title(
    listing: ConversationList, qtbot: QtBot
) -> None:
    assert listing.shown_row("regex")[1] == "3 h ago"
    narrowest = listing.minimumSizeHint().width()
    listing.resize(narrowest, 600)
    qtbot.waitUntil(lambda: listing.width() == narrowest)
    assert [listing.shown_row(cid)[1] for cid in listing.ids()] == [""] * len(ROWS)


def test_rows_show_relative_times_under_day_headers(listing: ConversationList) -> None:
    shown = [listing.shown_row(cid) for cid in listing.ids()]
    assert [(time, header) for _title, time, header in shown] == [
        ("2 min ago", "Today"),
        ("3 h ago", ""),
        ("Yesterday", "Yesterday"),
        ("Sunday", "Previous 7 days"),
        ("Jan 31", "January"),
    ]
    # A header makes its row taller: it is painted above the row, not a row itself.
    heights = [listing.items.visualItemRect(listing.items.item(r)).height() for r in range(5)]
    assert heights[0] > heights[1]
    assert listing.items.count() == len(ROWS)


def test_times_move_on_without_rebuilding_the_list(listing: ConversationList, clock: Clock) -> None:
    first = listing.items.item(0)
    clock.now += 2 * MINUTE
    listing.refresh_times()
    assert listing.shown_row("trip")[1] == "4 min ago"
    clock.now += DAY  # past midnight: the groups move too
    listing.refresh_times()
    assert listing.shown_row("trip")[1:] == ("Yesterday", "Yesterday")
    assert listing.shown_row("bread")[2] == "Previous 7 days"
    assert listing.items.item(0) is first  # the same row, repainted
    # The same conversations listed again (a reply ended): updated in place too.
    listing.show_conversations(ROWS)
    assert listing.items.item(0) is first


def test_a_refresh_keeps_the_scroll_position(listing: ConversationList, qtbot: QtBot) -> None:
    many = [summary(f"c{n}", f"Conversation {n}", n * HOUR) for n in range(60)]
    listing.show_conversations(many)
    bar = listing.items.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 400)
    bar.setValue(400)
    listing.show_conversations([summary("new", "A new one", 0), *many])
    QApplication.processEvents()  # the list lays itself out again
    assert listing.ids()[0] == "new" and bar.value() == 400
    listing.show_conversations(many)
    QApplication.processEvents()
    assert bar.value() == 400
    # A new search shows its results from the top.
    listing.search.setText("conversation")
    listing.show_conversations(many[1:])
    QApplication.processEvents()
    assert bar.value() == 0


def test_a_header_is_not_selectable_or_openable(listing: ConversationList, qtbot: QtBot) -> None:
    opened: list[str] = []
    listing.open_requested.connect(opened.append)
    viewport = listing.items.viewport()
    for cid in ("trip", "bread"):
        qtbot.mouseClick(
            viewport, Qt.MouseButton.LeftButton, pos=row_point(listing, cid, on_header=True)
        )
        qtbot.mouseDClick(
            viewport, Qt.MouseButton.LeftButton, pos=row_point(listing, cid, on_header=True)
        )
    assert opened == []
    assert listing.items.selectedItems() == []
    # The row under the header opens.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_point(listing, "bread"))
    assert opened[-1] == "bread"
    assert listing.current_id() == "bread"


def test_clicking_or_enter_on_a_row_opens_it(listing: ConversationList, qtbot: QtBot) -> None:
    with qtbot.waitSignal(listing.open_requested) as opened:
        qtbot.mouseClick(
            listing.items.viewport(), Qt.MouseButton.LeftButton, pos=row_point(listing, "regex")
        )
    assert opened.args == ["regex"]
    listing.items.setFocus()
    qtbot.keyClick(listing.items, Qt.Key.Key_Down)  # from "regex" to "bread"
    with qtbot.waitSignal(listing.open_requested) as opened:
        qtbot.keyClick(listing.items, Qt.Key.Key_Return)
    assert opened.args == ["bread"]


def test_unread_is_marked_and_cleared_when_opened(listing: ConversationList, qtbot: QtBot) -> None:
    listing.select("trip")
    listing.mark_unread("regex")
    state = listing.state_of("regex")
    assert state is not None and state.unread
    assert "unread" in listing.items.item(1).data(Qt.ItemDataRole.AccessibleTextRole)
    listing.mark_unread("trip")  # the one being looked at has nothing unread
    assert not listing.is_unread("trip")
    # A refresh keeps the mark.
    listing.show_conversations(ROWS)
    assert listing.is_unread("regex")
    qtbot.mouseClick(
        listing.items.viewport(), Qt.MouseButton.LeftButton, pos=row_point(listing, "regex")
    )
    assert not listing.is_unread("regex")
    assert "unread" not in listing.items.item(1).data(Qt.ItemDataRole.AccessibleTextRole)


def test_a_reply_that_finishes_out_of_sight_is_unread(listing: ConversationList) -> None:
    listing.select("trip")
    running = [summary("sql", "SQL window functions", 0, running=True), ROWS[0]]
    listing.show_conversations(running)
    assert listing.is_generating("sql")
    assert listing.shown_row("sql")[1] == "Replying…"
    listing.show_conversations([summary("sql", "SQL window functions", 0), ROWS[0]])
    assert not listing.is_generating("sql")
    assert listing.is_unread("sql")
    # The open conversation's reply was seen as it came.
    listing.show_conversations([summary("trip", LONG_TITLE, 0, running=True)])
    listing.show_conversations([summary("trip", LONG_TITLE, 0)])
    assert not listing.is_unread("trip")
    listing.select("sql")
    listing.show_conversations([summary("sql", "SQL window functions", 0), ROWS[0]])
    assert not listing.is_unread("sql")


def test_waiting_for_approval_is_shown(listing: ConversationList) -> None:
    listing.mark_waiting("bread", True)
    assert listing.shown_row("bread")[1] == "Needs approval"
    assert "approval" in listing.items.item(2).toolTip()
    listing.mark_waiting("bread", False)
    assert listing.shown_row("bread")[1] == "Yesterday"


def test_rows_have_accessible_names(listing: ConversationList) -> None:
    listing.mark_unread("regex")
    view = QAccessible.queryAccessibleInterface(listing.items)
    assert view is not None
    names = []
    for child in range(view.childCount()):
        accessible = view.child(child)
        if accessible.role() == QAccessible.Role.ListItem:
            names.append(accessible.text(QAccessible.Text.Name))
    assert names == [
        f"{LONG_TITLE}, 2 min ago",
        "Regex for ISO dates, 3 h ago, unread reply",
        "Sourdough schedule, Yesterday",
        "SQL window functions, Sunday",
        "Tax questions, Jan 31",
    ]


def test_an_empty_list_says_so(listing: ConversationList, qtbot: QtBot) -> None:
    listing.show_conversations([])
    assert listing.items.empty_text == "No conversations yet"
    qtbot.keyClicks(listing.search, "kites")
    listing.show_conversations([])
    assert listing.items.empty_text == "No conversations match “kites”"
