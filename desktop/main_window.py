"""The main window: conversation list, header, transcript (or the welcome view),
composer, tool side panel, status bar.

Layout and wiring only. The backend's start, health and stop belong to the
``BackendLink``; the conversations, sending and following replies to the
``ChatSession``. Here widget signals become their calls, and their signals become
what the widgets show.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backend.client.api import DuraChatClient
from backend.client.transfer import ExportFormat
from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.supervisor.supervisor import SupervisorOptions
from desktop.backend_link import STARTING, BackendLink
from desktop.chat.composer import Composer
from desktop.chat.conversation_header import ConversationHeader
from desktop.chat.tool_panel import ToolDock, ToolPanel
from desktop.chat.transcript_view import TranscriptView
from desktop.chat.welcome_view import WelcomeView
from desktop.conversations.conversation_list import ConversationList
from desktop.conversations.transfer import export_to, import_from
from desktop.notifications.notifier import Notifier
from desktop.notifications.reply_watch import ReplyWatch
from desktop.session import ChatSession
from desktop.settings.settings_dialog import SettingsDialog
from desktop.status_bar import StatusBarParts
from desktop.window_actions import (
    ask_export,
    build_menus,
    choose_model,
    load_settings,
    offered_models,
    open_settings,
)
from resources import icon_path

__all__ = ["STARTING", "MainWindow"]

# idle: nothing started (closes at once); running: start() was called; stopping: the
# backend is being stopped behind a window still shown; closed: all stopped.
Phase = Literal["idle", "running", "stopping", "closed"]


class MainWindow(QMainWindow):
    ready = Signal()  # the backend is up, the client attached, the last conversation open
    failed = Signal(str)
    closed = Signal()  # the backend is stopped and the window is gone

    def __init__(
        self,
        data: DataDir,
        options: SupervisorOptions | None = None,
        supervise: bool = True,
    ) -> None:
        """``supervise``: start (and on close stop) the backend; otherwise connect to the
        one already running on ``data``."""
        super().__init__()
        self.data = data
        self.link = BackendLink(data, options, supervise, self)
        self.session = ChatSession(data, self)
        self.model = self.session.model
        self.store = self.session.store
        self.outbox = self.session.outbox
        self.phase: Phase = "idle"
        # By provider, the models in use at some time this run: offered again.
        self.used_models: dict[str, list[str]] = {}
        self.setWindowTitle("DuraChat")
        self.resize(1200, 780)
        self._build()
        self.notifier = Notifier(QIcon(str(icon_path())), self)
        self.reply_watch = ReplyWatch(self.session, self.notifier, self.isActiveWindow, self)
        self.key_actions = build_menus(self)
        self._build_status_bar()
        self._wire()
        self._set_enabled(False)

    @property
    def client(self) -> DuraChatClient | None:
        return self.session.client

    @property
    def conversation_id(self) -> str | None:
        return self.session.conversation_id

    # -- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        left = self.conversation_list = ConversationList()
        self.new_button = left.new_button
        self.conversations = left.items
        left.items.setAccessibleName("Conversations")
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        self.header = ConversationHeader()
        self.transcript = TranscriptView(self.model)
        self.transcript.setAccessibleName("Transcript")
        self.welcome = WelcomeView()
        # The welcome view stands in for the transcript while no conversation is open.
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.transcript)
        self.composer = Composer()
        self.send_button = QPushButton("Send")
        self.send_button.setProperty("variant", "primary")  # the style sheet's accent
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send the message (Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.setSpacing(6)
        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(12, 8, 12, 12)
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(buttons)
        center_layout.addWidget(self.header)
        center_layout.addWidget(self.pages, 1)
        center_layout.addLayout(composer_row)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(center)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 940])
        self.setCentralWidget(splitter)

        self.tool_panel = ToolPanel(self.model)
        self.tool_dock = ToolDock(self.tool_panel, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.tool_dock)
        self.tool_dock.hide()  # until there is a tool call to show

    def _build_status_bar(self) -> None:
        self.status_bar = StatusBarParts(self.statusBar(), STARTING)
        self.status_label = self.status_bar.status_label
        self.retry_button = self.status_bar.retry_button
        self.health_label = self.status_bar.health_label
        self.model_label = self.status_bar.model_label
        self.usage_label = self.status_bar.usage_label

    def _wire(self) -> None:
        listing, session, link = self.conversation_list, self.session, self.link
        listing.new_requested.connect(self.new_conversation)
        listing.open_requested.connect(self.open_conversation)
        listing.rename_requested.connect(session.rename)
        listing.delete_requested.connect(session.delete)
        listing.export_requested.connect(lambda cid: ask_export(self, cid))
        listing.search_changed.connect(session.set_search)
        self.composer.submitted.connect(self.send_message)
        self.composer.stop_requested.connect(self.stop_turn)
        self.send_button.clicked.connect(self.composer.submit)
        self.stop_button.clicked.connect(self.stop_turn)
        self.transcript.tool_clicked.connect(self.select_tool_call)
        self.transcript.retry_requested.connect(self.send_message)
        self.transcript.approval_decided.connect(session.decide)
        self.retry_button.clicked.connect(self.start)
        self.welcome.prompt_chosen.connect(self.send_message)
        self.welcome.settings_requested.connect(lambda: open_settings(self))
        header = self.header
        header.rename_requested.connect(self._rename_open)
        header.model_chosen.connect(lambda name: choose_model(self, name))
        header.tool_panel_toggled.connect(self.tool_dock.set_shown)
        self.tool_dock.visibilityChanged.connect(header.set_tool_panel_visible)
        self.reply_watch.open_requested.connect(self._open_from_notification)
        for signal in (self.model.turns_changed, self.model.reset):
            signal.connect(lambda *_: self.status_bar.show_usage(self.model))
            signal.connect(self._show_stoppable)

        link.status_changed.connect(self.status_label.setText)
        link.health_changed.connect(self._show_health)
        link.failed.connect(self._on_failed)
        link.ready.connect(self._on_backend_up)
        session.status_changed.connect(self.status_label.setText)
        session.conversations_changed.connect(listing.show_conversations)
        session.conversations_changed.connect(lambda _list: self._show_title())
        session.conversation_opened.connect(self._on_opened)
        session.message_returned.connect(self._give_back)
        session.approvals_changed.connect(
            lambda waiting: listing.show_waiting({p.conversation_id for p in waiting})
        )
        session.decision_done.connect(self._on_decision)
        session.backend_ready.connect(self.ready)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.composer, self.send_button, self.new_button):
            widget.setEnabled(enabled)
        self._show_stoppable()

    def _show_stoppable(self, *_: object) -> None:
        """Stop is offered only while a reply is being generated."""
        running = self.composer.isEnabled() and self.model.running_turn_id is not None
        self.stop_button.setEnabled(running)
        self.key_actions["stop"].setEnabled(running)

    # -- the backend ------------------------------------------------------------------

    def start(self) -> None:
        """Show the stored conversations at once, and start the backend behind them."""
        self.phase = "running"
        self.retry_button.hide()
        self.show_settings(load_settings(self))
        self.notifier.start()
        self.session.start()
        self.link.start()

    def _on_failed(self, message: str) -> None:
        self.status_bar.show_failure(message)
        self.failed.emit(message)

    def _on_backend_up(self, client: DuraChatClient) -> None:
        if self.phase != "running":
            return  # up just as the window stops: the link closes it again
        self.show_settings(load_settings(self))
        self._set_enabled(True)
        if not self.conversation_list.search.text():  # the user is not searching
            self.composer.setFocus()  # enabled only now: ready to write
        self.session.attach(client)

    def _show_health(self, parts: dict[str, bool]) -> None:
        link = self.link
        self.status_bar.show_health(parts, not link.supervise, link.client is not None)

    def show_settings(self, settings: Settings) -> None:
        """The model in use, and the Web UI link when enabled and running."""
        self.model_label.setText(settings.describe())
        self.welcome.set_provider(settings.provider, settings.model_name)
        used = self.used_models.setdefault(settings.provider, [])
        if settings.model_name not in used:
            used.append(settings.model_name)
        self.header.set_models(offered_models(settings, used), settings.model_name)
        self.transcript.set_assistant_name(settings.model_name)
        client = self.link.client
        self.tool_panel.set_web_ui(client.web_ui_url if client is not None else None)

    def bring_to_front(self) -> None:
        """Another launch on the same data dir asked for this window."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.phase == "idle":  # nothing was started: nothing to stop
            self._close_dialogs()
            self.session.close()
            self.phase = "closed"
            self.closed.emit()
        if self.phase == "closed":
            event.accept()
            return
        event.ignore()  # the window goes once the backend has stopped
        if self.phase == "running":
            self.phase = "stopping"
            self.status_label.setText("Stopping the backend…")
            self._set_enabled(False)
            self._shutdown_task = asyncio.ensure_future(self.shutdown())

    async def shutdown(self) -> None:
        """Stop following, disconnect, stop the backend we started, then close."""
        self.phase = "stopping"
        self._close_dialogs()
        try:
            await self.reply_watch.close()
            await self.session.shutdown()
            await self.link.stop()
        finally:
            self.phase = "closed"
            self.close()
            self.closed.emit()

    def _close_dialogs(self) -> None:
        for dialog in self.findChildren(SettingsDialog):
            dialog.reject()  # cancels a connection test still running

    # -- conversations ----------------------------------------------------------------

    async def refresh_conversations(self) -> None:
        await self.session.refresh_conversations()

    def new_conversation(self) -> None:
        self.session.new_conversation()

    def open_conversation(self, conversation_id: str, by_user: bool = True) -> None:
        self.session.open_conversation(conversation_id, by_user)

    def _on_opened(self, conversation_id: str | None) -> None:
        self.conversation_list.select(conversation_id)
        self.pages.setCurrentWidget(self.welcome if conversation_id is None else self.transcript)
        self._show_title()
        if conversation_id is None:
            self.composer.setFocus()

    def _show_title(self) -> None:
        cid = self.conversation_id
        if cid is not None and not self.header.is_renaming():
            # A conversation just started has no title until the backend names it.
            self.header.set_title(self.session.title_of(cid) or "New conversation")
        elif cid is None:
            self.header.set_title(None)

    def _rename_open(self, title: str) -> None:
        if self.conversation_id is not None:
            self.session.rename(self.conversation_id, title)

    def _open_from_notification(self, conversation_id: str) -> None:
        self.bring_to_front()
        self.open_conversation(conversation_id)

    def export_conversation(self, conversation_id: str, path: Path, fmt: ExportFormat) -> None:
        self.status_label.setText(export_to(self.store, conversation_id, path, fmt))

    def import_file(self, path: Path) -> None:
        self.status_label.setText(import_from(self.store, path))
        self.session.refresh_soon()

    # -- composer ---------------------------------------------------------------------

    def send_message(self, text: str) -> None:
        self.session.send_message(text)

    def _give_back(self, text: str, why: str) -> None:
        """A message that was not sent goes back into the composer, nothing lost."""
        if not self.composer.toPlainText():
            self.composer.setPlainText(text)
        self.status_label.setText(why)

    def stop_turn(self) -> None:
        self.session.stop_turn()

    def _on_decision(self, call_id: str, error: str) -> None:
        """A decision on a waiting tool call that was not taken says why on its card."""
        if error:
            self.transcript.show_decision_error(call_id, error)
            self.status_label.setText(error)

    def select_tool_call(self, call_id: str) -> None:
        self.tool_dock.set_shown(True)
        self.tool_panel.select(call_id)
