"""The conversation list: search, new, rename, delete; most recent first.

It only shows and asks: the window owns the backend calls and answers through
``show_conversations``. A conversation still generating carries a dot.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.client.api import ConversationSummary

SEARCH_DELAY_MS = 200  # wait for a pause in typing before searching every history
UNTITLED = "(untitled)"
ID_ROLE = Qt.ItemDataRole.UserRole


def item_label(summary: ConversationSummary) -> str:
    return f"{'● ' if summary.running else ''}{summary.title or UNTITLED}"


class ConversationList(QWidget):
    open_requested = Signal(str)
    new_requested = Signal()
    rename_requested = Signal(str, str)  # conversation id, new title
    delete_requested = Signal(str)
    export_requested = Signal(str)
    search_changed = Signal(str)  # after a pause in typing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.new_button = QPushButton("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles and messages")
        self.search.setClearButtonEnabled(True)
        self.items = QListWidget()
        self.items.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.items.customContextMenuRequested.connect(self._context_menu)
        self.items.itemActivated.connect(self._on_activated)
        self.items.itemClicked.connect(self._on_activated)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
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
        self.current: str | None = None

    @property
    def query(self) -> str:
        return self.search.text().strip()

    # -- showing ------------------------------------------------------------------------

    def show_conversations(self, summaries: list[ConversationSummary]) -> None:
        """Replace the list (already filtered by the current search, newest first)."""
        self.items.blockSignals(True)
        self.items.clear()
        for summary in summaries:
            item = QListWidgetItem(item_label(summary))
            item.setData(ID_ROLE, summary.conversation_id)
            item.setToolTip(
                f"{summary.title or UNTITLED}\n"
                + ("generating a reply…\n" if summary.running else "")
                + "F2 renames, Delete deletes"
            )
            self.items.addItem(item)
            if summary.conversation_id == self.current:
                self.items.setCurrentItem(item)
        self.items.blockSignals(False)

    def select(self, conversation_id: str | None) -> None:
        self.current = conversation_id
        self.items.clearSelection()
        for row in range(self.items.count()):
            if self.items.item(row).data(ID_ROLE) == conversation_id:
                self.items.setCurrentRow(row)

    def ids(self) -> list[str]:
        return [self.items.item(row).data(ID_ROLE) for row in range(self.items.count())]

    def title_of(self, conversation_id: str) -> str:
        for row in range(self.items.count()):
            item = self.items.item(row)
            if item.data(ID_ROLE) == conversation_id:
                return item.text().removeprefix("● ")
        return ""

    def is_generating(self, conversation_id: str) -> bool:
        """Whether the list shows this conversation as still generating a reply."""
        for row in range(self.items.count()):
            item = self.items.item(row)
            if item.data(ID_ROLE) == conversation_id:
                return item.text().startswith("● ")
        return False

    def current_id(self) -> str | None:
        item = self.items.currentItem()
        return item.data(ID_ROLE) if item else None

    # -- asking -------------------------------------------------------------------------

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.current = item.data(ID_ROLE)
        self.open_requested.emit(self.current)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.items.itemAt(pos)
        if item is None:
            return
        conversation_id = item.data(ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.ask_rename(conversation_id))
        menu.addAction("Export…", lambda: self.export_requested.emit(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.ask_delete(conversation_id))
        menu.exec(self.items.mapToGlobal(pos))

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
