"""The window's parts as the user meets them: the welcome view, the conversation
header (title, rename, model), the tool panel, the keyboard (every action of the
keymap, the shortcuts sheet, the text size) and the names screen readers read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.workflows.conversation_types import title_from
from desktop.chat.welcome_view import EXAMPLES
from desktop.main_window import MainWindow
from desktop.settings.theme import apply_theme
from desktop.shortcuts.keymap import SHORTCUTS
from desktop.shortcuts.sheet import ShortcutsSheet
from desktop.style.tokens import TYPE
from tests.desktop.conftest import SettledTurns, type_and_send, until
from tests.support.serve_process import ServeProcess

# Keys of the composer itself (Enter sends, Shift+Enter a new line): not window actions.
COMPOSER_KEYS = {"send", "new_line"}


@pytest.fixture(autouse=True)
def default_settings_after(backend: ServeProcess, qapp: QApplication) -> Iterator[None]:
    yield
    Settings().save(DataDir(backend.data_dir).settings_file)  # the demo model, 100 %
    apply_theme(qapp, "system", 100)


def settings_of(win: MainWindow) -> Settings:
    return Settings.load(win.data.settings_file)


async def chat(win: MainWindow, qtbot: QtBot, text: str) -> str:
    settled = SettledTurns(win.session)
    type_and_send(qtbot, win, text)
    (turn_id,) = win.model.turns
    assert await settled.status_of(turn_id) == "done"
    assert win.conversation_id is not None
    return win.conversation_id


def test_the_welcome_view_shows_first_and_an_example_prompt_starts_a_conversation(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    # First in the module: its backend has no conversation yet.
    assert window.conversation_list.ids() == []
    assert window.welcome.isVisible() and not window.transcript.isVisible()
    assert window.header.title_button.text() == "New conversation"
    card = window.welcome.cards[2]  # the code example: no tool call
    assert card.example == EXAMPLES[2]

    async def scenario() -> None:
        settled = SettledTurns(window.session)
        qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
        assert window.transcript.isVisible() and not window.welcome.isVisible()
        (turn_id,) = window.model.turns
        assert window.model.turns[turn_id].user_text == EXAMPLES[2].prompt
        assert await settled.status_of(turn_id) == "done"
        assert "```python" in window.model.turns[turn_id].reply
        window.new_conversation()  # Ctrl+N: the welcome view again
        assert window.welcome.isVisible() and window.header.title_button.text() == (
            "New conversation"
        )

    loop.run_until_complete(scenario())


def test_the_header_shows_the_title_and_renames_the_conversation(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    message = "all about herons [demo tokens=3]"

    async def scenario() -> None:
        conversation_id = await chat(window, qtbot, message)
        header = window.header
        await until(lambda: header.title_button.text() == title_from(message), 5, "title")
        qtbot.mouseClick(header.title_button, Qt.MouseButton.LeftButton)
        assert header.title_edit.isVisible() and header.title_edit.hasFocus()
        qtbot.keyClick(header.title_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(header.title_edit, "Herons, briefly")
        qtbot.keyClick(header.title_edit, Qt.Key.Key_Return)
        await until(
            lambda: window.conversation_list.title_of(conversation_id) == "Herons, briefly",
            10,
            "renamed in the list",
        )
        assert header.title_button.text() == "Herons, briefly"

    loop.run_until_complete(scenario())


def test_choosing_a_model_in_the_header_saves_it_for_the_next_reply(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    Settings(model="durachat-demo-mini").save(window.data.settings_file)
    window.show_settings(settings_of(window))  # as after the Settings dialog saved it
    header = window.header
    assert header.model_button.text() == "durachat-demo-mini"
    assert set(header.model_names()) == {"durachat-demo-mini", "durachat-demo"}
    (choice,) = [a for a in header.model_menu.actions() if a.text() == "durachat-demo"]
    choice.trigger()  # picked from the menu
    assert settings_of(window).model == "durachat-demo"
    assert header.model_button.text() == "durachat-demo"
    assert window.transcript.assistant == "durachat-demo"  # replies carry its name
    assert "durachat-demo" in window.status_label.text()
    # The one used before stays on offer.
    assert "durachat-demo-mini" in header.model_names()


def test_the_tool_panel_shows_on_the_first_tool_call_and_ctrl_t_toggles_it(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    assert not window.tool_dock.isVisible()
    assert not window.header.tool_panel_button.isChecked()

    async def scenario() -> None:
        await chat(window, qtbot, 'sum [demo tool=calculator:{"expression": "2+3"}]')
        await until(window.tool_dock.isVisible, 5, "tool panel shown")
        assert window.header.tool_panel_button.isChecked()
        assert "calculator" in window.tool_panel.details.toPlainText()

    loop.run_until_complete(scenario())
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert not window.tool_dock.isVisible() and not window.header.tool_panel_button.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert window.tool_dock.isVisible() and window.header.tool_panel_button.isChecked()
    qtbot.mouseClick(window.header.tool_panel_button, Qt.MouseButton.LeftButton)
    assert not window.tool_dock.isVisible()


def test_ctrl_slash_opens_the_shortcuts_sheet(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    sheet = window.findChild(ShortcutsSheet)
    assert sheet is not None and sheet.isVisible()
    what, keys = sheet.rows["tool_panel"]
    assert what.text() == "Show or hide tool calls" and keys.text() == "Ctrl+T"
    sheet.reject()


def test_ctrl_plus_makes_the_text_larger_and_it_is_remembered(
    window: MainWindow, qtbot: QtBot, qapp: QApplication
) -> None:
    base = qapp.font().pointSizeF()
    composer = window.composer.font().pointSizeF()
    assert composer == pytest.approx(TYPE.body)
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert qapp.font().pointSizeF() == pytest.approx(base * 1.1)
    assert window.composer.font().pointSizeF() == pytest.approx(TYPE.body * 1.1)
    assert settings_of(window).text_scale == 110
    assert window.status_label.text() == "Text size 110%"
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert settings_of(window).text_scale == 90
    assert window.composer.font().pointSizeF() == pytest.approx(TYPE.body * 0.9)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert settings_of(window).text_scale == 100
    assert qapp.font().pointSizeF() == pytest.approx(base)


def accessible_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None
    return interface.text(QAccessible.Text.Name)


def test_every_control_has_an_accessible_name(window: MainWindow) -> None:
    w = window
    assert accessible_name(w.composer) == "Message"
    assert w.composer.placeholderText() == "Message DuraChat…"
    assert accessible_name(w.send_button) == "Send"
    assert w.send_button.property("variant") == "primary"
    assert accessible_name(w.stop_button) == "Stop"
    assert accessible_name(w.new_button) == "New conversation"
    assert accessible_name(w.conversation_list.items) == "Conversations"
    assert accessible_name(w.conversation_list.search) == "Search conversations"
    assert accessible_name(w.header.title_button).startswith("Title:")
    assert accessible_name(w.header.model_button).startswith("Model:")
    assert accessible_name(w.header.tool_panel_button) == "Tool panel"
    assert accessible_name(w.tool_panel.calls) == "Tool calls"
    assert accessible_name(w.tool_panel.details) == "Tool call details"
    assert accessible_name(w.transcript) == "Transcript"
    assert all(accessible_name(card) for card in w.welcome.cards)


def test_every_keymap_action_is_on_the_window_with_its_keys(window: MainWindow) -> None:
    portable = QKeySequence.SequenceFormat.PortableText
    in_menus = {
        action.objectName()
        for menu in window.menuBar().actions()
        for action in menu.menu().actions()
    }
    for shortcut in SHORTCUTS:
        if shortcut.action in COMPOSER_KEYS:
            continue
        action = window.key_actions[shortcut.action]
        keys = [key.toString(portable) for key in action.shortcuts()]
        assert keys == [QKeySequence(k).toString(portable) for k in shortcut.keys]
        assert shortcut.action in in_menus, f"{shortcut.action} is in no menu"
    # The menus show the same keys: the first of each.
    assert window.key_actions["new_conversation"].shortcut().toString(portable) == "Ctrl+N"
