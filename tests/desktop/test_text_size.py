"""The text size (Ctrl+plus / Ctrl+minus) reaches the widgets with a type-scale font of
their own: the welcome view's heading, the header's title, the list's rows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.chat.conversation_header import ConversationHeader, TitleButton
from desktop.chat.welcome_view import WelcomeView
from desktop.settings.theme import apply_theme
from desktop.style.tokens import TYPE


@pytest.fixture
def normal_size_after(qapp: QApplication):  # type: ignore[no-untyped-def]
    yield
    apply_theme(qapp, "light", 100)


def test_text_size_scales_headings_and_titles_both_ways(
    qtbot: QtBot, qapp: QApplication, normal_size_after: None
) -> None:
    apply_theme(qapp, "light", 100)
    welcome = WelcomeView()
    header = ConversationHeader()
    qtbot.addWidget(welcome)
    qtbot.addWidget(header)
    header.set_title("Trip to Lisbon")
    assert welcome.heading.font().pointSizeF() == pytest.approx(TYPE.display)
    (title,) = header.findChildren(TitleButton)
    assert title.font().pointSizeF() == pytest.approx(TYPE.title)

    apply_theme(qapp, "light", 150)
    assert welcome.heading.font().pointSizeF() == pytest.approx(TYPE.display * 1.5)
    assert welcome.description.font().pointSizeF() == pytest.approx(TYPE.body * 1.5)
    (title,) = header.findChildren(TitleButton)
    assert title.font().pointSizeF() == pytest.approx(TYPE.title * 1.5)

    apply_theme(qapp, "dark", None)  # a theme change alone keeps the size
    assert welcome.heading.font().pointSizeF() == pytest.approx(TYPE.display * 1.5)

    apply_theme(qapp, "light", 100)
    assert welcome.heading.font().pointSizeF() == pytest.approx(TYPE.display)
