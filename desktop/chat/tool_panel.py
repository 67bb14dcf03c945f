"""The dockable side panel: every tool call of the conversation, in full."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.tool_card import duration_text
from desktop.chat.tool_panel_details import ToolCallDetails, describe, pretty
from desktop.chat.tool_panel_rows import (
    CALL_ID_ROLE,
    DURATION_ROLE,
    NAME_ROLE,
    SERVER_ROLE,
    STATUS_ROLE,
    ToolCallRowDelegate,
    row_text,
)
from desktop.chat.transcript_model import ToolCallItem, TranscriptModel

__all__ = ["ToolDock", "ToolPanel", "WebUiLink", "describe", "pretty"]

# A conversation id -> its page in Temporal's Web UI, or None (the client knows how).
WebUiLink = Callable[[str], str | None]


def _fill(item: QListWidgetItem, call: ToolCallItem) -> None:
    duration = duration_text(call.duration_ms) if call.duration_ms is not None else ""
    for role, value in (
        (Qt.ItemDataRole.DisplayRole, row_text(call)),
        (CALL_ID_ROLE, call.call_id),
        (NAME_ROLE, call.name),
        (STATUS_ROLE, call.status),
        (DURATION_ROLE, duration),
        (SERVER_ROLE, call.server or ""),
    ):
        if item.data(role) != value:  # an unchanged row is not repainted
            item.setData(role, value)


class ToolPanel(QWidget):
    """The list of the conversation's tool calls over the selected one's details, or
    "No tool calls yet"; under them the link to the conversation in Temporal's Web UI."""

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolPanel")
        # Without this a plain QWidget ignores its style sheet background.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.model = model
        self.web_ui: WebUiLink | None = None
        self.calls = QListWidget()
        self.calls.setObjectName("toolCallList")
        self.calls.setAccessibleName("Tool calls")
        self.calls.setItemDelegate(ToolCallRowDelegate(self.calls))
        self.calls.setMouseTracking(True)  # hovered rows
        self.calls.setUniformItemSizes(True)
        self.calls.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.details = ToolCallDetails()
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.calls)
        split.addWidget(self.details)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        self.empty = QLabel("No tool calls yet")
        self.empty.setObjectName("toolPanelEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(split)
        self.web_ui_link = QLabel()
        self.web_ui_link.setObjectName("webUiLink")
        self.web_ui_link.setOpenExternalLinks(True)
        self.web_ui_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.web_ui_link.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.web_ui_link)
        model.reset.connect(self._show_link)
        self.calls.currentItemChanged.connect(lambda *_: self.show_selected())
        model.tool_calls_changed.connect(self.refresh)
        self.refresh()

    def set_web_ui(self, web_ui: WebUiLink | None) -> None:
        """How to link a conversation to Temporal's Web UI (the client's
        ``web_ui_url``), or None while no backend is connected."""
        self.web_ui = web_ui
        self._show_link()

    def _show_link(self) -> None:
        conversation_id = self.model.conversation_id
        url = self.web_ui(conversation_id) if self.web_ui and conversation_id else None
        if url:
            self.web_ui_link.setText(
                f'<a href="{url}">Open this conversation in Temporal Web UI</a>'
            )
            self.web_ui_link.setToolTip(url)
            self.web_ui_link.show()
        else:
            self.web_ui_link.hide()

    def refresh(self) -> None:
        calls = self.model.all_tool_calls()
        selected = self.selected_call_id()
        self.calls.blockSignals(True)
        # Rows are updated in place: refreshes come every frame while tools run, and
        # rebuilding would flicker and lose the hover and scroll position.
        for row, call in enumerate(calls):
            item = self.calls.item(row)
            if item is None:
                item = QListWidgetItem()
                self.calls.addItem(item)
            _fill(item, call)
        while self.calls.count() > len(calls):
            self.calls.takeItem(self.calls.count() - 1)
        still_there = selected is not None and any(c.call_id == selected for c in calls)
        if still_there:
            self.select(selected or "")
        else:
            self.calls.setCurrentItem(None)
        self.calls.blockSignals(False)
        self.pages.setCurrentIndex(1 if calls else 0)
        if self.calls.currentItem() is None and self.calls.count():
            self.calls.setCurrentRow(self.calls.count() - 1)
        else:
            self.show_selected()

    def selected_call_id(self) -> str | None:
        item = self.calls.currentItem()
        return item.data(CALL_ID_ROLE) if item else None

    def select(self, call_id: str) -> None:
        for row in range(self.calls.count()):
            if self.calls.item(row).data(CALL_ID_ROLE) == call_id:
                self.calls.setCurrentRow(row)
                return

    def show_selected(self) -> None:
        call_id = self.selected_call_id()
        self.details.show_call(self.model.tool_call(call_id) if call_id else None)


class ToolDock(QDockWidget):
    """The tool panel's dock: hidden until there is a tool call to show, shown by
    itself on the first one, after that the user's to show or hide (Ctrl+T, the
    header's button)."""

    def __init__(self, panel: ToolPanel, parent: QWidget | None = None) -> None:
        super().__init__("Tool calls", parent)
        self.setObjectName("toolDock")
        self.setAccessibleName("Tool calls")
        self.setWidget(panel)
        self.panel = panel
        self.chosen = False  # the user showed or hid it: it no longer shows by itself
        self.toggleViewAction().triggered.connect(self._chosen)
        panel.model.tool_calls_changed.connect(self._reveal)
        self.hide()

    def _chosen(self) -> None:
        self.chosen = True

    def set_shown(self, visible: bool) -> None:
        """As the user asks (the header's button)."""
        self.chosen = True
        self.setVisible(visible)

    def _reveal(self) -> None:
        if not self.chosen and self.panel.model.all_tool_calls():
            self.chosen = True  # once
            self.show()
