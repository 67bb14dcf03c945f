"""The window's actions and menus (every key from ``desktop.shortcuts.keymap``), and
what they ask or change before the window acts: which file to import, where to
export, the Settings dialog, the model, the text size."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication

from backend.local.settings import DEFAULT_MODELS, Settings, SettingsError
from desktop.conversations.transfer import ask_export_path, ask_import_path
from desktop.settings.settings_dialog import SettingsDialog
from desktop.settings.theme import apply_theme
from desktop.shortcuts import text_scale
from desktop.shortcuts.actions import configure, keyed_action
from desktop.shortcuts.sheet import ShortcutsSheet

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """Every action of the keymap, by name, in the menus and on the window."""
    w = window
    made: dict[str, QAction] = {}

    def add(name: str, text: str, slot: object) -> QAction:
        made[name] = keyed_action(w, name, text, slot)  # type: ignore[arg-type]
        return made[name]

    bar = w.menuBar()
    app_menu = bar.addMenu("&DuraChat")
    app_menu.addAction(add("new_conversation", "&New conversation", w.new_conversation))
    settings = add("settings", "&Settings…", lambda: open_settings(w))
    settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    app_menu.addAction(settings)
    app_menu.addAction(add("shortcuts", "&Keyboard shortcuts", lambda: show_shortcuts(w)))
    app_menu.addSeparator()
    quit_action = add("quit", "&Quit", w.close)
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    app_menu.addAction(quit_action)

    file_menu = bar.addMenu("&File")
    import_action = QAction("&Import…", w)
    import_action.setToolTip("Import a DuraChat export or a ChatGPT data export")
    import_action.triggered.connect(lambda: ask_import(w))
    file_menu.addAction(import_action)
    export = add("export", "&Export conversation…", lambda: ask_export(w, w.conversation_id))
    file_menu.addAction(export)

    chats = bar.addMenu("&Conversation")
    chats.addAction(add("search", "&Search conversations", lambda: focus_search(w)))
    chats.addAction(add("next_conversation", "&Next conversation", lambda: step_conversation(w, 1)))
    chats.addAction(
        add("previous_conversation", "&Previous conversation", lambda: step_conversation(w, -1))
    )
    chats.addAction(add("rename", "&Rename…", w.header.start_rename))
    chats.addSeparator()
    write = lambda: w.composer.setFocus(Qt.FocusReason.ShortcutFocusReason)  # noqa: E731
    chats.addAction(add("focus_composer", "&Write a message", write))
    chats.addAction(add("stop", "S&top the reply", w.stop_turn))
    chats.addAction(add("copy_last_reply", "&Copy the last reply", lambda: copy_last_reply(w)))
    chats.addAction(add("retry_last", "Re&try the last reply", lambda: retry_last(w)))

    view = bar.addMenu("&View")
    toggle = made["tool_panel"] = w.tool_dock.toggleViewAction()
    toggle.setText("&Tool panel")
    configure(toggle, "tool_panel")
    view.addAction(toggle)
    view.addSeparator()
    view.addAction(add("text_larger", "&Larger text", lambda: set_text_scale(w, "larger")))
    view.addAction(add("text_smaller", "&Smaller text", lambda: set_text_scale(w, "smaller")))
    view.addAction(add("text_reset", "&Actual size", lambda: set_text_scale(w, "reset")))

    for name, action in made.items():
        if name not in ("stop", "rename"):
            w.addAction(action)  # the keys work wherever the focus is in the window
    # Esc and F2 also mean something to the widget with the focus (a search box, a
    # rename in the list): these two keys work only from the transcript and composer,
    # where they mean nothing else; the menus offer them everywhere.
    for name in ("stop", "rename"):
        made[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for widget in (w.composer, w.transcript, w.welcome):
            widget.addAction(made[name])
    return made


def step_conversation(window: MainWindow, step: int) -> None:
    """The next (1) or previous (-1) conversation of the list, round the ends."""
    ids = window.conversation_list.ids()
    if not ids:
        return
    here = ids.index(window.conversation_id) if window.conversation_id in ids else -step
    window.open_conversation(ids[(here + step) % len(ids)])


def focus_search(window: MainWindow) -> None:
    search = window.conversation_list.search
    search.setFocus(Qt.FocusReason.ShortcutFocusReason)
    search.selectAll()


def show_shortcuts(window: MainWindow) -> ShortcutsSheet:
    sheet = window.findChild(ShortcutsSheet)
    if sheet is None:
        sheet = ShortcutsSheet(window)
    sheet.open()
    return sheet


def copy_last_reply(window: MainWindow) -> None:
    reply = next((t.reply for t in reversed(window.model.turns.values()) if t.reply), "")
    if reply:
        QGuiApplication.clipboard().setText(reply)
        window.status_label.setText("Last reply copied")


def retry_last(window: MainWindow) -> None:
    """Send the last message again: what the Retry button of the last reply does."""
    last = next(reversed(window.model.turns.values()), None)
    if last is not None and last.finished:
        window.send_message(last.user_text)


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
    apply_theme(_app(), settings.theme, settings.text_scale)
    window.show_settings(settings)
    window.status_label.setText("Settings saved: the next reply uses them")


def load_settings(window: MainWindow) -> Settings:
    """The settings on disk; the defaults (and the status line says why) if unreadable."""
    try:
        return Settings.load(window.data.settings_file)
    except SettingsError as exc:
        window.status_label.setText(f"Settings: {exc}")
        return Settings()


def _save(window: MainWindow, settings: Settings) -> bool:
    try:
        settings.save(window.data.settings_file)
    except OSError as exc:
        window.status_label.setText(f"Settings not saved: {exc}")
        return False
    return True


def offered_models(settings: Settings, used: list[str]) -> list[str]:
    """The provider's default model, the one in use, and the ones chosen before."""
    names = [DEFAULT_MODELS[settings.provider], settings.model_name, *used]
    return list(dict.fromkeys([*names, *settings.context_tokens]))


def choose_model(window: MainWindow, name: str) -> None:
    """The worker reads the settings at each model call: the next message uses it."""
    settings = load_settings(window)
    settings.model = name
    if _save(window, settings):
        window.show_settings(settings)
        window.status_label.setText(f"The next reply comes from {name}")


def set_text_scale(window: MainWindow, how: str) -> None:
    """``how``: "larger", "smaller" or "reset"; remembered in the settings."""
    settings = load_settings(window)
    now = settings.text_scale
    scale = {"larger": text_scale.larger, "smaller": text_scale.smaller}.get(how, lambda _now: 100)(
        now
    )
    apply_theme(_app(), settings.theme, scale)
    settings.text_scale = scale
    if _save(window, settings):
        window.status_label.setText(f"Text size {scale}%")


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
