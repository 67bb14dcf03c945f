"""The conversation list: search, new, rename, delete; most recent first, grouped by day.

It only shows and asks: the window owns the backend calls and answers through
``show_conversations``. A row shows its title on one line (elided, the full title in
its tooltip), how long ago it changed, and its state: a reply generating, a reply
that finished while the user was elsewhere (unread), a tool waiting for approval.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.client.api import ConversationSummary
from desktop.conversations.list_delegate import row_state
from desktop.conversations.list_rows import UNTITLED, Role, RowState
from desktop.conversations.list_view import ConversationItems
from desktop.conversations.relative_time import day_group, local_datetime, relative_time
from desktop.style.icons import icon
from desktop.style.scheme import tokens_for
from desktop.style.tokens import SPACING

SEARCH_DELAY_MS = 200  # wait for a pause in typing before searching every history
TICK_MS = 60_000  # relative times ("2 min ago") move on by the minute
ID_ROLE = Role.ID

__all__ = ["ID_ROLE", "UNTITLED", "ConversationList"]


class ConversationList(QWidget):
    open_requested = Signal(str)
    new_requested = Signal()
    rename_requested = Signal(str, str)  # conversation id, new title
    delete_requested = Signal(str)
    export_requested = Signal(str)
    search_changed = Signal(str)  # after a pause in typing

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conversationList")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # the sidebar's colour
        self._clock = clock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING.xs)
        top = QVBoxLayout()
        top.setContentsMargins(SPACING.sm, SPACING.sm, SPACING.sm, SPACING.xs)
        top.setSpacing(SPACING.sm)
        self.new_button = QPushButton("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.setAccessibleName("New conversation")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles and messages")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self._search_icon = self.search.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition)
        self.items = ConversationItems()
        self.items.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.items.customContextMenuRequested.connect(self._context_menu)
        self.items.itemActivated.connect(self._on_activated)
        self.items.itemClicked.connect(self._on_activated)
        top.addWidget(self.new_button)
        top.addWidget(self.search)
        layout.addLayout(top)
        # The rows bring their own inset: the list reaches the sidebar's edges.
        layout.addWidget(self.items, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.query))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        for keys, slot in (
            (QKeySequence(Qt.Key.Key_F2), self.ask_rename),
            (QKeySequence(QKeySequence.StandardKey.Delete), self.ask_delete),
        ):
            shortcut = QShortcut(keys, self.items)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=slot: s(self.current_id()))

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.refresh_times)
        self._tick.start()

        self._recolor()
        self._shown_query = ""
        self.current: str | None = None
        self._unread: set[str] = set()
        self._waiting: set[str] = set()
        # Conversations last shown generating: one that stops while the user looks
        # elsewhere has a reply they have not seen.
        self._running: set[str] = set()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: retint icons
            self._recolor()

    def _recolor(self) -> None:
        colors = tokens_for(self.palette())
        self.new_button.setIcon(icon("square-pen", colors.text))
        self._search_icon.setIcon(icon("search", colors.text_muted))

    @property
    def query(self) -> str:
        return self.search.text().strip()

    # -- showing ------------------------------------------------------------------------

    def show_conversations(self, summaries: list[ConversationSummary]) -> None:
        """Show these (already filtered by the current search, newest first).

        Rows are updated in place when the same conversations come back in the same
        order (every reply's end refreshes the list), so the scroll position, hover
        and selection stay put; otherwise the list is rebuilt.
        """
        for summary in summaries:
            cid = summary.conversation_id
            if cid in self._running and not summary.running and cid != self.current:
                self._unread.add(cid)
            (self._running.add if summary.running else self._running.discard)(cid)

        self.items.empty_text = (
            f"No conversations match “{self.query}”" if self.query else "No conversations yet"
        )
        if [s.conversation_id for s in summaries] == self.ids():
            for row, summary in enumerate(summaries):
                self._fill(self.items.item(row), summary)
            self._regroup()
            return

        # Where the user had scrolled stays put (a new conversation on top does not
        # move the rest); a new search starts at the top of its results.
        same_search = self.query == self._shown_query
        scroll = self.items.verticalScrollBar().value() if same_search else 0
        self._shown_query = self.query
        self.items.blockSignals(True)
        self.items.clear()
        self.items.hovered_row = -1
        for summary in summaries:
            item = QListWidgetItem()
            self._fill(item, summary)
            self.items.addItem(item)
            if summary.conversation_id == self.current:
                self.items.setCurrentItem(item)
        self._regroup()
        self.items.blockSignals(False)
        self.items.verticalScrollBar().setValue(scroll)

    def _fill(self, item: QListWidgetItem, summary: ConversationSummary) -> None:
        cid = summary.conversation_id
        values = {
            Role.ID: cid,
            Role.TITLE: summary.title or UNTITLED,
            Qt.ItemDataRole.DisplayRole: summary.title or UNTITLED,  # type-ahead finds it
            Role.UPDATED_AT: summary.updated_at,
            Role.RUNNING: summary.running,
            Role.UNREAD: cid in self._unread,
            Role.WAITING: cid in self._waiting,
        }
        for role, value in values.items():
            if item.data(role) != value:
                item.setData(role, value)
        self._describe(item)

    def _describe(self, item: QListWidgetItem) -> None:
        """Time text, accessible text and tooltip: what changes with the clock."""
        now = local_datetime(self._clock())
        updated = local_datetime(item.data(Role.UPDATED_AT))
        state = RowState(
            title=item.data(Role.TITLE),
            time_text=relative_time(updated, now),
            running=bool(item.data(Role.RUNNING)),
            unread=bool(item.data(Role.UNREAD)),
            waiting=bool(item.data(Role.WAITING)),
        )
        for role, value in (
            (Role.TIME_TEXT, state.time_text),
            (Qt.ItemDataRole.AccessibleTextRole, state.accessible_text()),
            (Qt.ItemDataRole.ToolTipRole, state.tooltip(updated)),
        ):
            if item.data(role) != value:  # an unchanged row is not repainted
                item.setData(role, value)

    def _regroup(self) -> None:
        """Give the first row of each day group its header."""
        now = local_datetime(self._clock())
        previous = None
        changed = False
        for row in range(self.items.count()):
            item = self.items.item(row)
            group = day_group(local_datetime(item.data(Role.UPDATED_AT)), now)
            header = group if group != previous else ""
            previous = group
            if item.data(Role.HEADER) != header:
                item.setData(Role.HEADER, header)
                changed = True
        if changed:  # row heights changed with their headers
            self.items.doItemsLayout()

    def refresh_times(self) -> None:
        """Move the times on ("2 min ago" → "3 min ago"); only changed rows repaint."""
        for row in range(self.items.count()):
            self._describe(self.items.item(row))
        self._regroup()

    def select(self, conversation_id: str | None) -> None:
        self.current = conversation_id
        if conversation_id is not None:
            self._set_flag(conversation_id, self._unread, Role.UNREAD, False)  # now seen
        self.items.clearSelection()
        for row in range(self.items.count()):
            if self.items.item(row).data(ID_ROLE) == conversation_id:
                self.items.setCurrentRow(row)

    def mark_unread(self, conversation_id: str) -> None:
        """A reply finished that the user has not seen (it is marked by itself when
        the list saw it generating; this is for what the list did not see)."""
        if conversation_id != self.current:
            self._set_flag(conversation_id, self._unread, Role.UNREAD, True)

    def mark_waiting(self, conversation_id: str, waiting: bool) -> None:
        """A tool call in this conversation waits for the user's approval (or no more)."""
        self._set_flag(conversation_id, self._waiting, Role.WAITING, waiting)

    def show_waiting(self, conversation_ids: set[str]) -> None:
        """Exactly these conversations have a tool call waiting for approval."""
        for conversation_id in self._waiting - conversation_ids:
            self.mark_waiting(conversation_id, False)
        for conversation_id in conversation_ids - self._waiting:
            self.mark_waiting(conversation_id, True)

    def _set_flag(self, conversation_id: str, flags: set[str], role: Role, on: bool) -> None:
        (flags.add if on else flags.discard)(conversation_id)
        if (item := self._item(conversation_id)) is not None and item.data(role) != on:
            item.setData(role, on)
            self._describe(item)

    def _item(self, conversation_id: str) -> QListWidgetItem | None:
        for row in range(self.items.count()):
            item = self.items.item(row)
            if item.data(ID_ROLE) == conversation_id:
                return item
        return None

    def ids(self) -> list[str]:
        return [self.items.item(row).data(ID_ROLE) for row in range(self.items.count())]

    def title_of(self, conversation_id: str) -> str:
        item = self._item(conversation_id)
        return item.data(Role.TITLE) if item is not None else ""

    def is_generating(self, conversation_id: str) -> bool:
        """Whether the list shows this conversation as still generating a reply."""
        item = self._item(conversation_id)
        return item is not None and bool(item.data(Role.RUNNING))

    def is_unread(self, conversation_id: str) -> bool:
        item = self._item(conversation_id)
        return item is not None and bool(item.data(Role.UNREAD))

    def is_waiting(self, conversation_id: str) -> bool:
        item = self._item(conversation_id)
        return item is not None and bool(item.data(Role.WAITING))

    def shown_row(self, conversation_id: str) -> tuple[str, str, str]:
        """(title, time or state, day header) as the row paints them at its current
        width: the title elided to fit."""
        item = self._item(conversation_id)
        if item is None:
            return "", "", ""
        index = self.items.indexFromItem(item)
        row = self.items.delegate.layout(self.items.visualItemRect(item), index, self.font())
        return row.title_text, row.side_text, item.data(Role.HEADER)

    def state_of(self, conversation_id: str) -> RowState | None:
        item = self._item(conversation_id)
        return row_state(self.items.indexFromItem(item)) if item is not None else None

    def current_id(self) -> str | None:
        item = self.items.currentItem()
        return item.data(ID_ROLE) if item else None

    # -- asking -------------------------------------------------------------------------

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.current = item.data(ID_ROLE)
        self._set_flag(self.current, self._unread, Role.UNREAD, False)
        self.open_requested.emit(self.current)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.items.row_at(pos)
        if item is None:
            return
        conversation_id = item.data(ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.ask_rename(conversation_id))
        menu.addAction("Export…", lambda: self.export_requested.emit(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.ask_delete(conversation_id))
        menu.exec(self.items.viewport().mapToGlobal(pos))

    def ask_rename(self, conversation_id: str | None) -> None:
        if conversation_id is None:
            return
        current = self.title_of(conversation_id)
        title, ok = QInputDialog.getText(
            self,
            "Rename conversation",
            "Title:",
            QLineEdit.EchoMode.Normal,
            "" if current == UNTITLED else current,
        )
        if ok and title.strip() and title.strip() != current:
            self.rename_requested.emit(conversation_id, title.strip())

    def ask_delete(self, conversation_id: str | None) -> None:
        if conversation_id is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete conversation",
            f"Delete “{self.title_of(conversation_id)}” and all its messages? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(conversation_id)
