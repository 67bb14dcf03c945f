"""The welcome view and the conversation header, driven as a user does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.demo_model.script import plan_reply
from backend.tools.catalog import TOOLS
from desktop.chat.conversation_header import ConversationHeader
from desktop.chat.welcome_view import EXAMPLES, WelcomeView

LONG_TITLE = "A very long conversation title that cannot possibly fit in the header " * 3


@pytest.fixture
def welcome(qtbot: QtBot) -> WelcomeView:
    view = WelcomeView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def header(qtbot: QtBot) -> ConversationHeader:
    bar = ConversationHeader()
    qtbot.addWidget(bar)
    bar.resize(700, 52)
    bar.set_title("Regex for ISO dates")
    bar.set_models(["gpt-4.1-mini", "gpt-4.1", "o4-mini"], "gpt-4.1-mini")
    bar.show()
    qtbot.waitExposed(bar)
    return bar


# -- the welcome view ----------------------------------------------------------------


def test_clicking_an_example_sends_its_prompt(welcome: WelcomeView, qtbot: QtBot) -> None:
    assert [card.accessibleName() for card in welcome.cards] == [e.prompt for e in EXAMPLES]
    for card in welcome.cards:
        assert card.isVisible()
        with qtbot.waitSignal(welcome.prompt_chosen) as chosen:
            qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
        assert chosen.args == [card.example.prompt]
    # And from the keyboard.
    welcome.cards[2].setFocus()
    with qtbot.waitSignal(welcome.prompt_chosen) as chosen:
        qtbot.keyClick(welcome.cards[2], Qt.Key.Key_Space)
    assert chosen.args == [EXAMPLES[2].prompt]


def test_the_examples_show_off_what_the_demo_model_does() -> None:
    """Tools, a streamed code block, reasoning: each prompt gets what its card promises."""
    offered = [tool.name for tool in TOOLS]
    plans = [plan_reply([{"role": "user", "content": e.prompt}], offered) for e in EXAMPLES]
    math, clock, code, reason = plans
    assert [call.name for call in math.tool_calls] == ["calculator"]
    assert [call.name for call in clock.tool_calls] == ["current_time"]
    assert "```python" in code.text and len(code.text_tokens) > 40
    assert reason.reasoning and reason.text


def test_connect_a_provider_shows_only_for_the_demo_model(
    welcome: WelcomeView, qtbot: QtBot
) -> None:
    assert welcome.connect_button.isVisible()
    assert "demo model" in welcome.demo_text.text()
    with qtbot.waitSignal(welcome.settings_requested):
        qtbot.mouseClick(welcome.connect_button, Qt.MouseButton.LeftButton)
    welcome.set_provider("openai", "gpt-4.1-mini")
    assert not welcome.connect_button.isVisible()
    assert welcome.model_line.isVisible() and "gpt-4.1-mini" in welcome.model_line.text()
    welcome.set_provider("demo", None)
    assert welcome.connect_button.isVisible() and not welcome.model_line.isVisible()


# -- the header ----------------------------------------------------------------------


def test_rename_by_clicking_the_title_typing_and_enter(
    header: ConversationHeader, qtbot: QtBot
) -> None:
    qtbot.mouseClick(header.title_button, Qt.MouseButton.LeftButton)
    assert header.title_edit.isVisible() and header.title_edit.hasFocus()
    assert header.title_edit.text() == "Regex for ISO dates"
    qtbot.keyClicks(header.title_edit, "Dates in regular expressions")  # replaces: all selected
    with qtbot.waitSignal(header.rename_requested) as renamed:
        qtbot.keyClick(header.title_edit, Qt.Key.Key_Return)
    assert renamed.args == ["Dates in regular expressions"]
    assert not header.title_edit.isVisible()
    assert header.title_button.shown_text() == "Dates in regular expressions"


def test_escape_cancels_the_rename(header: ConversationHeader, qtbot: QtBot) -> None:
    renamed: list[str] = []
    header.rename_requested.connect(renamed.append)
    header.title_button.setFocus()
    qtbot.keyClick(header.title_button, Qt.Key.Key_F2)
    assert header.title_edit.isVisible()
    qtbot.keyClicks(header.title_edit, "Something else")
    qtbot.keyClick(header.title_edit, Qt.Key.Key_Escape)
    assert not header.title_edit.isVisible()
    assert header.title_button.shown_text() == "Regex for ISO dates"
    # Nor does an unchanged or empty title rename.
    qtbot.keyClick(header.title_button, Qt.Key.Key_Return)
    assert header.title_edit.isVisible()
    qtbot.keyClick(header.title_edit, Qt.Key.Key_Return)
    assert not header.title_edit.isVisible()
    qtbot.keyClick(header.title_button, Qt.Key.Key_Space)
    assert header.title_edit.isVisible()
    header.title_edit.clear()
    qtbot.keyClick(header.title_edit, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert renamed == []


def test_a_long_title_is_elided_and_whole_in_the_tooltip(header: ConversationHeader) -> None:
    header.set_title(LONG_TITLE)
    shown = header.title_button.shown_text()
    assert shown.endswith("…") and LONG_TITLE.startswith(shown[:-1])
    assert LONG_TITLE in header.title_button.toolTip()


def test_no_conversation_has_nothing_to_rename(header: ConversationHeader, qtbot: QtBot) -> None:
    header.set_title(None)
    assert header.title_button.shown_text() == "New conversation"
    qtbot.mouseClick(header.title_button, Qt.MouseButton.LeftButton)
    assert not header.title_edit.isVisible()


def test_the_model_picker_chooses_the_next_model(header: ConversationHeader, qtbot: QtBot) -> None:
    assert header.model_button.text() == "gpt-4.1-mini"
    assert header.model_names() == ["gpt-4.1-mini", "gpt-4.1", "o4-mini"]
    (checked,) = [a.text() for a in header.model_menu.actions() if a.isChecked()]
    assert checked == "gpt-4.1-mini"

    def pick_third() -> None:  # in the open menu, as the user: down, down, Enter
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, pick_third)
            return
        for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Return):
            qtbot.keyClick(menu, key)

    header.model_button.setFocus()
    QTimer.singleShot(0, pick_third)
    with qtbot.waitSignal(header.model_chosen) as chosen:
        qtbot.keyClick(header.model_button, Qt.Key.Key_Space)  # opens the menu
    assert chosen.args == ["o4-mini"]
    assert header.model_button.text() == "o4-mini"
    assert header.model_button.accessibleName() == "Model: o4-mini"
    # Picking the model in use again is no change; a model outside the list still shows.
    with qtbot.assertNotEmitted(header.model_chosen):
        header.choose_model("o4-mini")
    header.set_models(["gpt-4.1"], "my-fine-tune")
    assert header.model_names() == ["my-fine-tune", "gpt-4.1"]


def test_the_tool_panel_toggle(header: ConversationHeader, qtbot: QtBot) -> None:
    with qtbot.waitSignal(header.tool_panel_toggled) as toggled:
        qtbot.mouseClick(header.tool_panel_button, Qt.MouseButton.LeftButton)
    assert toggled.args == [True]
    with qtbot.assertNotEmitted(header.tool_panel_toggled):
        header.set_tool_panel_visible(False)  # the panel was closed elsewhere
    assert not header.tool_panel_button.isChecked()


def test_every_control_has_an_accessible_name(header: ConversationHeader) -> None:
    assert header.title_button.accessibleName() == "Title: Regex for ISO dates"
    assert header.title_edit.accessibleName() == "Conversation title"
    assert header.model_button.accessibleName() == "Model: gpt-4.1-mini"
    assert header.tool_panel_button.accessibleName() == "Tool panel"
