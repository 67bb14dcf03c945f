"""The window's menu bar and what its actions ask before the window acts: which file
to import, where to export, the Settings dialog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from backend.local.settings import Settings, SettingsError
from desktop.conversations.transfer import ask_export_path, ask_import_path
from desktop.settings.settings_dialog import SettingsDialog
from desktop.settings.theme import apply_theme

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


def _action(
    window: MainWindow, menu: QMenu, text: str, slot: Callable[[], Any], keys: Any = None
) -> QAction:
    action = QAction(text, window)
    if keys is not None:
        action.setShortcut(QKeySequence(keys))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    menu = bar.addMenu("&DuraChat")
    new = QKeySequence.StandardKey.New  # Ctrl+N
    _action(window, menu, "&New conversation", window.new_conversation, new)
    settings = _action(window, menu, "&Settings…", lambda: open_settings(window), "Ctrl+,")
    settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    menu.addSeparator()
    _action(window, menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    file_menu = bar.addMenu("&File")
    imports = _action(window, file_menu, "&Import…", lambda: ask_import(window))
    imports.setToolTip("Import a DuraChat export or a ChatGPT data export")
    export = lambda: ask_export(window, window.conversation_id)  # noqa: E731
    _action(window, file_menu, "&Export conversation…", export, "Ctrl+Shift+E")
    toggle = window.tool_dock.toggleViewAction()
    toggle.setShortcut(QKeySequence("Ctrl+T"))
    window.addAction(toggle)
    bar.addMenu("&View").addAction(toggle)


def ask_export(window: MainWindow, conversation_id: str | None) -> None:
    if conversation_id is None:
        window.status_label.setText("Open a conversation to export it")
        return
    title = window.session.title_of(conversation_id) or "conversation"
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    chosen = ask_export_path(window, str(Path.home() / f"{safe or 'conversation'}.md"))
    if chosen is not None:
        window.export_conversation(conversation_id, *chosen)


def ask_import(window: MainWindow) -> None:
    path = ask_import_path(window)
    if path is not None:
        window.import_file(path)


def open_settings(window: MainWindow) -> SettingsDialog:
    client = window.link.client
    dialog = SettingsDialog(window.data, client.info.demo_model if client else None, window)
    dialog.settings_saved.connect(lambda settings: _settings_saved(window, settings))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def _settings_saved(window: MainWindow, settings: Settings) -> None:
    # The worker reads the settings at each model call: the next reply uses them.
    apply_theme(QApplication.instance(), settings.theme)  # type: ignore[arg-type]
    window.show_settings(settings)
    window.status_label.setText("Settings saved: the next reply uses them")


def load_settings(window: MainWindow) -> Settings:
    """The settings on disk; the defaults (and the status line says why) if unreadable."""
    try:
        return Settings.load(window.data.settings_file)
    except SettingsError as exc:
        window.status_label.setText(f"Settings: {exc}")
        return Settings()
