"""The dockable side panel: every tool call of the conversation, in full."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.transcript_model import ToolCallItem, TranscriptModel


def pretty(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return text


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3] if ts else "—"


def describe(call: ToolCallItem) -> str:
    lines = [
        f"{call.name}  [{call.status}]",
        f"call id:  {call.call_id}",
        f"started:  {_when(call.started_at)}",
        f"ended:    {_when(call.ended_at)}",
        "duration: " + (f"{call.duration_ms:.0f} ms" if call.duration_ms is not None else "—"),
        f"attempts: {call.attempts}",
        "",
        "Arguments:",
        pretty(call.arguments),
        "",
        "Result:",
        pretty(call.output) if call.output is not None else "—",
    ]
    if call.error:
        lines += ["", "Error:", call.error]
    return "\n".join(lines)


# A conversation id -> its page in Temporal's Web UI, or None (the client knows how).
WebUiLink = Callable[[str], str | None]


class ToolPanel(QWidget):
    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.web_ui: WebUiLink | None = None
        self.calls = QListWidget()
        self.calls.setAccessibleName("Tool calls")
        self.details = QPlainTextEdit()
        self.details.setAccessibleName("Tool call details")
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.calls)
        split.addWidget(self.details)
        split.setStretchFactor(1, 3)
        self.web_ui_link = QLabel()
        self.web_ui_link.setOpenExternalLinks(True)
        self.web_ui_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.web_ui_link.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split, 1)
        layout.addWidget(self.web_ui_link)
        model.reset.connect(self._show_link)
        self.calls.currentItemChanged.connect(lambda *_: self.show_selected())
        model.tool_calls_changed.connect(self.refresh)

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
        selected = self.selected_call_id()
        self.calls.blockSignals(True)
        self.calls.clear()
        for call in self.model.all_tool_calls():
            item = QListWidgetItem(f"{call.name} — {call.status}")
            item.setData(Qt.ItemDataRole.UserRole, call.call_id)
            self.calls.addItem(item)
            if call.call_id == selected:
                self.calls.setCurrentItem(item)
        self.calls.blockSignals(False)
        if self.calls.currentItem() is None and self.calls.count():
            self.calls.setCurrentRow(self.calls.count() - 1)
        else:
            self.show_selected()

    def selected_call_id(self) -> str | None:
        item = self.calls.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select(self, call_id: str) -> None:
        for row in range(self.calls.count()):
            if self.calls.item(row).data(Qt.ItemDataRole.UserRole) == call_id:
                self.calls.setCurrentRow(row)
                return

    def show_selected(self) -> None:
        call_id = self.selected_call_id()
        call = self.model.tool_call(call_id) if call_id else None
        self.details.setPlainText(describe(call) if call else "")


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
