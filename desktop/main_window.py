"""The main window: conversation list, transcript, composer, tool side panel, status bar.

Every backend call runs as an asyncio task on the Qt event loop (qasync); no
handler here ever waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend.client.api import (
    DuraChatClient,
    check_message,
    list_summaries,
    new_conversation_id,
    new_message_id,
    read_history,
)
from backend.client.errors import MessageRejected, NoSuchConversation, StoreError
from backend.client.outbox import Outbox, deliver_held
from backend.client.store import ConversationStore
from backend.client.transfer import ExportFormat
from backend.local.paths import DataDir
from backend.local.settings import Settings, SettingsError
from backend.supervisor.supervisor import Supervisor, SupervisorOptions
from backend.workflows.conversation_types import ConversationView
from desktop.chat.composer import Composer
from desktop.chat.tool_panel import ToolPanel
from desktop.chat.transcript_model import TranscriptModel
from desktop.chat.transcript_view import TranscriptView
from desktop.conversations.conversation_list import ConversationList
from desktop.conversations.transfer import (
    ask_export_path,
    ask_import_path,
    export_to,
    import_from,
)
from desktop.settings.settings_dialog import SettingsDialog
from desktop.settings.theme import apply_theme

log = logging.getLogger(__name__)
STARTING = "Starting Temporal / Redis / worker…"
HEALTH_MS = 2000
HEALTH_WHILE_STARTING_MS = 100
# Opening a conversation asks the worker for its history; while the worker restarts
# that can take a while: after this long the user is told, and it is asked again.


class MainWindow(QMainWindow):
    ready = Signal()  # the backend is up and the client connected
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
        self.options = options or SupervisorOptions(data_dir=data)
        self.supervise = supervise
        self.supervisor: Supervisor | None = None
        self.client: DuraChatClient | None = None
        self.conversation_id: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._follows: dict[str, asyncio.Task[None]] = {}
        self._shutting_down = False
        # The store answers the list and every transcript, with or without a backend;
        # held messages are rows of it too.
        self.store = ConversationStore.in_data_dir(data.ensure().root)
        self.outbox = Outbox(self.store, legacy_file=data.outbox_file)
        self._user_navigated = False  # once true, start-up no longer reopens the last one
        self._deliver_lock = asyncio.Lock()
        self._shut_down = False
        self.setWindowTitle("DuraChat")
        self.resize(1200, 780)
        self._build()

    # -- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        self.model = TranscriptModel(self)

        left = self.conversation_list = ConversationList()
        left.new_requested.connect(self.new_conversation)
        left.open_requested.connect(self.open_conversation)
        left.rename_requested.connect(lambda cid, title: self._spawn(self._rename(cid, title)))
        left.delete_requested.connect(lambda cid: self._spawn(self._delete(cid)))
        left.export_requested.connect(self.ask_export)
        left.search_changed.connect(lambda _q: self._spawn(self.refresh_conversations()))
        self.new_button = left.new_button
        self.conversations = left.items

        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(4, 4, 4, 4)
        self.transcript = TranscriptView(self.model)
        self.composer = Composer()
        self.composer.submitted.connect(self.send_message)
        self.composer.stop_requested.connect(self.stop_turn)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.composer.submit)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.clicked.connect(self.stop_turn)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        composer_row = QHBoxLayout()
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(buttons)
        center_layout.addWidget(self.transcript, 1)
        center_layout.addLayout(composer_row)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(center)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 940])
        self.setCentralWidget(splitter)

        self.tool_panel = ToolPanel(self.model)
        self.tool_dock = QDockWidget("Tool calls", self)
        self.tool_dock.setObjectName("toolDock")
        self.tool_dock.setWidget(self.tool_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.tool_dock)
        toggle = self.tool_dock.toggleViewAction()
        toggle.setShortcut(QKeySequence("Ctrl+T"))
        self.addAction(toggle)
        self.transcript.tool_clicked.connect(self.select_tool_call)
        self.transcript.retry_requested.connect(self.send_message)

        new_action = QAction("&New conversation", self)
        new_action.setShortcut(QKeySequence.StandardKey.New)  # Ctrl+N
        new_action.triggered.connect(self.new_conversation)
        settings_action = QAction("&Settings…", self)
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        settings_action.triggered.connect(self.open_settings)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        import_action = QAction("&Import…", self)
        import_action.setToolTip("Import a DuraChat export or a ChatGPT data export")
        import_action.triggered.connect(self.ask_import)
        export_action = QAction("&Export conversation…", self)
        export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        export_action.triggered.connect(lambda: self.ask_export(self.conversation_id))
        menu = self.menuBar().addMenu("&DuraChat")
        for action in (new_action, settings_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(quit_action)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(import_action)
        file_menu.addAction(export_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(toggle)

        bar = self.statusBar()
        self.status_label = QLabel(STARTING)
        self.retry_button = QPushButton("Retry")
        self.retry_button.hide()
        self.retry_button.clicked.connect(self.start)
        self.health_label = QLabel()
        self.health_label.setToolTip("Backend parts: ● serving, ○ down or restarting")
        self.model_label = QLabel()
        self.usage_label = QLabel()
        self.usage_label.setToolTip("Tokens of the last finished reply: prompt → reply")
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.retry_button)
        for label in (self.usage_label, self.model_label, self.health_label):
            bar.addPermanentWidget(label)
        self.model.turns_changed.connect(lambda _ids: self._show_usage())
        self.model.turns_changed.connect(lambda _ids: self._show_stoppable())
        self.model.reset.connect(self._show_usage)
        self.model.reset.connect(self._show_stoppable)
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(HEALTH_MS)
        self._health_timer.timeout.connect(self._show_health)
        self._deliver_timer = QTimer(self)
        self._deliver_timer.setSingleShot(True)
        self._deliver_timer.setInterval(1000)
        self._deliver_timer.timeout.connect(self._deliver_soon)
        self._list_timer = QTimer(self)
        self._list_timer.setSingleShot(True)
        self._list_timer.setInterval(2000)
        self._list_timer.timeout.connect(lambda: self._spawn(self.refresh_conversations()))
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.composer, self.send_button, self.new_button):
            widget.setEnabled(enabled)
        self._show_stoppable()

    def _show_stoppable(self) -> None:
        """Stop is offered only while a reply is being generated."""
        self.stop_button.setEnabled(
            self.composer.isEnabled() and self.model.running_turn_id is not None
        )

    # -- tasks ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        if self._shutting_down:
            coro.close()  # nothing new starts while the window stops its backend
            return None
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("background task failed", exc_info=exc)
            self.status_label.setText(f"Error: {str(exc) or type(exc).__name__}")

    # -- backend lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._show_stored()
        self._spawn(self._start_backend())

    def _show_stored(self) -> None:
        """The conversations as the store holds them, before the backend is up."""
        self.conversation_list.show_conversations(
            list_summaries(self.store, self.conversation_list.query)
        )

    async def _start_backend(self) -> None:
        self.retry_button.hide()
        self.status_label.setText(STARTING if self.supervise else "Connecting to the backend…")
        try:
            if self.supervise:
                self.supervisor = Supervisor(self.options)
                # Each part lights up in the status bar as it becomes ready.
                self._health_timer.setInterval(HEALTH_WHILE_STARTING_MS)
                self._health_timer.start()
                info = await self.supervisor.start()
                self._health_timer.setInterval(HEALTH_MS)
                self.client = await DuraChatClient.connect_to(info)
            else:
                self.client = await DuraChatClient.connect(self.data)
        except Exception as exc:
            self._health_timer.stop()
            self._show_health()  # which parts came up and which did not
            self.supervisor = None
            message = (
                f"The backend did not start: {exc}  —  logs: {self.data.logs}"
                if self.supervise
                else f"Cannot connect to the backend: {exc}"
            )
            self.status_label.setText(message)
            self.status_label.setToolTip(message)
            self.retry_button.show()
            self.failed.emit(message)
            return
        log.info(
            "backend ready (%s) on %s",
            "started by this window" if self.supervise else "already running",
            self.data.root,
        )
        self.status_label.setText(f"Ready — data in {self.data.root}")
        self.show_settings(self._load_settings())
        self._set_enabled(True)
        self._show_health()
        self._health_timer.start()
        self._deliver_soon()  # what an earlier run could not send yet
        await self.refresh_conversations()
        if self.conversation_id is not None:  # opened while the backend started
            self._spawn(self._load(self.conversation_id))
        # Resume where the user was: the conversation they last wrote in while it could
        # not be sent, else the most recent one, re-attached to its reply if one is
        # still being generated (unless the user already moved). A conversation the
        # backend cannot answer for yet (its worker just started) opens all the same,
        # and shows once it can.
        held = self.outbox.pending()
        ids = self.conversation_list.ids()
        resume = held[-1].conversation_id if held else (ids[0] if ids else None)
        if not self._user_navigated and resume and not self.conversation_list.query:
            self.open_conversation(resume, by_user=False)
        self.ready.emit()

    def _show_health(self) -> None:
        if self.supervisor is None:
            self.health_label.setText("backend: external" if self.client else "")
            return
        self.health_label.setText(
            "  ".join(
                f"{'●' if ok else '○'} {name}" for name, ok in self.supervisor.health().items()
            )
        )

    def show_settings(self, settings: Settings) -> None:
        """The model in use, and the Web UI link when enabled and running."""
        self.model_label.setText(settings.describe())
        web_ui = self.client.info.temporal_ui if self.client is not None else None
        self.tool_panel.set_web_ui(web_ui)  # set only when the Web UI was enabled at start

    def open_settings(self) -> SettingsDialog:
        demo = self.client.info.demo_model if self.client is not None else None
        dialog = SettingsDialog(self.data, demo, self)
        dialog.settings_saved.connect(self._on_settings_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_settings_saved(self, settings: Settings) -> None:
        # The worker reads the settings at each model call: the next reply uses them.
        apply_theme(QApplication.instance(), settings.theme)  # type: ignore[arg-type]
        self.show_settings(settings)
        self.status_label.setText("Settings saved: the next reply uses them")

    def _load_settings(self) -> Settings:
        try:
            return Settings.load(self.data.settings_file)
        except SettingsError as exc:
            self.status_label.setText(f"Settings: {exc}")
            return Settings()

    def _show_usage(self) -> None:
        last = next((t for t in reversed(self.model.turns.values()) if t.status == "done"), None)
        if last is None or not (last.input_tokens or last.output_tokens):
            self.usage_label.setText("")
            return
        self.usage_label.setText(
            f"last reply: {last.input_tokens:,} → {last.output_tokens:,} tokens"
        )

    def bring_to_front(self) -> None:
        """Another launch on the same data dir asked for this window."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        event.ignore()
        if not self._shutting_down:
            self._shutting_down = True
            self.status_label.setText("Stopping the backend…")
            self._set_enabled(False)
            self._shutdown_task = asyncio.ensure_future(self.shutdown())

    async def shutdown(self) -> None:
        """Stop following, disconnect, stop the backend we started, then close."""
        self._shutting_down = True
        for dialog in self.findChildren(SettingsDialog):
            dialog.reject()  # cancels a connection test still running
        self._health_timer.stop()
        self._list_timer.stop()
        self._deliver_timer.stop()
        tasks = [*self._follows.values(), *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None
        if self.supervisor is not None:
            try:
                await self.supervisor.stop()
            except Exception:
                log.exception("stopping the backend failed")
            self.supervisor = None
        self.store.close()
        self._shut_down = True
        self.close()
        self.closed.emit()

    # -- conversations ----------------------------------------------------------------

    async def refresh_conversations(self) -> None:
        summaries = list_summaries(self.store, self.conversation_list.query)
        self.conversation_list.show_conversations(summaries)
        # Replies generating in conversations that are not open end unseen: look
        # again shortly so their "generating" dot goes when they finish. The open one
        # is followed, and its follower refreshes the list when the reply ends (every
        # refresh reads the store: cheap, but not needed while tokens stream).
        unseen = any(s.running and s.conversation_id != self.conversation_id for s in summaries)
        if unseen and not self._list_timer.isActive():
            self._list_timer.start()

    async def _rename(self, conversation_id: str, title: str) -> None:
        assert self.client is not None
        await self.client.rename(conversation_id, title)
        await self.refresh_conversations()

    async def _delete(self, conversation_id: str) -> None:
        assert self.client is not None
        if conversation_id == self.conversation_id:
            self.new_conversation()
        # Under the delivery lock: a message of this conversation being sent right now
        # would otherwise start the deleted conversation again.
        async with self._deliver_lock:
            for message in self.outbox.pending():
                if message.conversation_id == conversation_id:
                    self.outbox.release(message.message_id)  # or it would bring it back
            await self.client.delete(conversation_id)
        self.status_label.setText("Conversation deleted")
        await self.refresh_conversations()

    def ask_export(self, conversation_id: str | None) -> None:
        if conversation_id is None:
            self.status_label.setText("Open a conversation to export it")
            return
        record = self.store.get_conversation(conversation_id)
        title = record.title if record else "conversation"
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
        chosen = ask_export_path(self, str(Path.home() / f"{safe or 'conversation'}.md"))
        if chosen is not None:
            self.export_conversation(conversation_id, *chosen)

    def export_conversation(self, conversation_id: str, path: Path, fmt: ExportFormat) -> None:
        self.status_label.setText(export_to(self.store, conversation_id, path, fmt))

    def ask_import(self) -> None:
        path = ask_import_path(self)
        if path is not None:
            self.import_file(path)

    def import_file(self, path: Path) -> None:
        self.status_label.setText(import_from(self.store, path))
        self._spawn(self.refresh_conversations())

    def new_conversation(self) -> None:
        self._user_navigated = True
        self._stop_following()
        self.conversation_id = None
        self.model.clear(None)
        self.conversation_list.select(None)
        self.composer.setFocus()

    def open_conversation(self, conversation_id: str, by_user: bool = True) -> None:
        self._user_navigated |= by_user
        if conversation_id == self.conversation_id:
            return
        self._stop_following()
        self.conversation_id = conversation_id
        self.conversation_list.select(conversation_id)
        self.model.clear(conversation_id)
        self._show_held(conversation_id)  # at once: the history may take a moment
        self._spawn(self._load(conversation_id))

    def _show_held(self, conversation_id: str) -> None:
        for message in self.outbox.pending():
            if message.conversation_id == conversation_id:
                self.model.add_pending(message.message_id, message.text)

    async def _load(self, conversation_id: str) -> None:
        """Show the conversation as the store holds it (no backend needed), then follow
        its reply if one is being generated."""
        try:
            view = read_history(self.store, conversation_id)
        except NoSuchConversation:
            if conversation_id == self.conversation_id:
                self.status_label.setText("This conversation no longer exists.")
            return
        if conversation_id != self.conversation_id:
            return
        self.model.load(view)
        self._show_held(conversation_id)
        self._follow_running(view)

    def _follow_running(self, view: ConversationView) -> None:
        """Re-attach to the reply still being generated, from the start of its events,
        and to the replies queued behind it (once the backend is up: see
        _start_backend; held messages are followed once delivered)."""
        if self.client is None:
            return
        held = {m.message_id for m in self.outbox.pending()}
        for turn in view.turns:
            if (
                turn.status in ("queued", "running")
                and turn.turn_id not in self._follows
                and turn.turn_id not in held
            ):
                self.model.restart_live(turn.turn_id)
                self._follow(view.conversation_id, turn.turn_id, "0-0")

    def _stop_following(self) -> None:
        if self._follows and not self._shutting_down and not self._list_timer.isActive():
            # A reply left generating: the list watches it now, for its "generating" dot.
            self._list_timer.start()
        for task in self._follows.values():
            task.cancel()
        self._follows.clear()

    def _follow(self, conversation_id: str, turn_id: str, after: str) -> None:
        # One follower per turn: two would show every token twice. Not through
        # _spawn: follows are cancelled by conversation (see _stop_following).
        if turn_id in self._follows or self._shutting_down:
            return
        task = asyncio.ensure_future(self._follow_turn(conversation_id, turn_id, after))
        self._follows[turn_id] = task
        task.add_done_callback(self._task_done)

    async def _follow_turn(self, conversation_id: str, turn_id: str, after: str) -> None:
        assert self.client is not None
        try:
            async for item in self.client.follow_turn(conversation_id, turn_id, after):
                if isinstance(item, ConversationView):
                    self.model.apply_view(item)
                    self.model.flush()
                    if item.conversation_id == self.conversation_id:
                        self._follow_running(item)
                else:
                    self.model.apply_event(item)
        except NoSuchConversation:
            return  # the conversation was deleted meanwhile: nothing left to follow
        finally:
            if self._follows.get(turn_id) is asyncio.current_task():
                del self._follows[turn_id]
        self._spawn(self.refresh_conversations())

    # -- composer ---------------------------------------------------------------------

    def send_message(self, text: str) -> None:
        """Keep the message in the outbox first, then deliver: nothing the user sent is
        lost if the backend is down, restarting, or the window goes meanwhile."""
        if self.client is None:
            return
        try:
            check_message(text)
        except MessageRejected as exc:
            self._give_back(text, f"Not sent: {exc}")
            return
        if self.conversation_id is None:
            self.conversation_id = new_conversation_id()
            self.conversation_list.current = self.conversation_id
            self.model.clear(self.conversation_id)
        message_id = new_message_id()
        try:
            self.outbox.hold(self.conversation_id, message_id, text)
        except StoreError as exc:
            self._give_back(text, f"Not sent: the message could not be kept on disk ({exc})")
            return
        self.model.add_pending(message_id, text)
        self._deliver_soon()

    def _give_back(self, text: str, why: str) -> None:
        """A message that was not sent goes back into the composer, nothing lost."""
        if not self.composer.toPlainText():
            self.composer.setPlainText(text)
        self.status_label.setText(why)

    def _deliver_soon(self) -> None:
        self._spawn(self._deliver())

    async def _deliver(self) -> None:
        """Send the held messages, oldest first, one delivery at a time (so they reach
        the conversation in the order they were written)."""
        if self.client is None:
            return
        try:
            async with self._deliver_lock:
                delivery = await deliver_held(self.outbox, self.client)
        finally:
            if self.outbox.pending():
                self._deliver_timer.start()  # whatever happened, try again shortly
        for sent in delivery.sent:
            self.model.mark_sent(sent.message_id)
            if sent.conversation_id == self.conversation_id:
                self._follow(sent.conversation_id, sent.message_id, sent.stream_after)
        for message, why in delivery.refused:
            self.model.mark_refused(message.message_id, why)
            if message.conversation_id == self.conversation_id:
                self._give_back(message.text, f"Not sent: {why}")
        if delivery.stalled:
            held = self.outbox.pending()
            for message in held:
                if message.conversation_id == self.conversation_id:
                    self.model.mark_held(message.message_id)
            self.status_label.setText(
                f"{len(held)} message(s) held: the backend is not reachable; "
                "they will be sent when it is back"
            )
        elif delivery.sent and self.status_label.text().endswith("when it is back"):
            self.status_label.setText("Held messages sent")
        if delivery.sent:
            await self.refresh_conversations()

    def stop_turn(self) -> None:
        if self.client is not None and self.conversation_id is not None:
            turn_id = self.model.running_turn_id
            self._spawn(self.client.stop(self.conversation_id, turn_id))

    def select_tool_call(self, call_id: str) -> None:
        self.tool_dock.show()
        self.tool_panel.select(call_id)
