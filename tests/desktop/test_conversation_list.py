"""The conversation list as the user drives it: search, rename, delete with confirmation."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from tests.desktop.conftest import until


def answer_next_dialog(answer: Callable[[object], None]) -> None:
    """Answer the modal dialog the next action opens, as the user would."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, act)
            return
        answer(dialog)

    QTimer.singleShot(20, act)


async def chat(win: MainWindow, qtbot: QtBot, text: str) -> str:
    win.new_conversation()
    qtbot.keyClicks(win.composer, text)
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    (turn_id,) = win.model.turns
    await until(lambda: win.model.turns[turn_id].status == "done", 30, "reply")
    assert win.conversation_id is not None
    conversation_id = win.conversation_id
    await until(lambda: conversation_id in win.conversation_list.ids(), 10, "listed")
    return conversation_id


def test_search_rename_and_delete(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    listing = window.conversation_list

    async def scenario() -> None:
        bees = await chat(window, qtbot, "all about bumblebees [demo tokens=3]")
        kites = await chat(window, qtbot, "flying kites [demo tokens=3]")
        assert listing.ids()[:2] == [kites, bees]  # most recent first

        qtbot.keyClicks(listing.search, "BUMBLEBEE")  # content, any case
        await until(lambda: listing.ids() == [bees], 10, "search result")
        listing.search.clear()
        await until(lambda: kites in listing.ids() and bees in listing.ids(), 10, "all again")

        # Rename through the dialog (F2 on the selected conversation).
        listing.select(kites)
        listing.items.setFocus()

        def rename(dialog: object) -> None:
            assert isinstance(dialog, QInputDialog)
            dialog.setTextValue("Weekend plans")
            dialog.accept()

        answer_next_dialog(rename)
        qtbot.keyClick(listing.items, Qt.Key.Key_F2)
        await until(lambda: listing.title_of(kites) == "Weekend plans", 10, "renamed")

        # Delete asks first; Cancel keeps it.
        def press(button: QMessageBox.StandardButton) -> Callable[[object], None]:
            def answer(dialog: object) -> None:
                assert isinstance(dialog, QMessageBox)
                assert "Weekend plans" in dialog.text()
                dialog.button(button).click()

            return answer

        deletes: list[str] = []
        listing.delete_requested.connect(deletes.append)
        answer_next_dialog(press(QMessageBox.StandardButton.Cancel))
        listing.ask_delete(kites)  # returns once the dialog is answered
        assert deletes == [] and kites in listing.ids()

        window.open_conversation(kites)
        answer_next_dialog(press(QMessageBox.StandardButton.Yes))
        listing.ask_delete(kites)
        await until(lambda: kites not in listing.ids(), 10, "deleted")
        assert deletes == [kites]
        assert window.conversation_id is None and window.model.turns == {}
        assert bees in listing.ids()

    loop.run_until_complete(scenario())


def test_a_conversation_still_generating_shows_it_until_done(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    listing = window.conversation_list

    async def scenario() -> None:
        window.new_conversation()
        qtbot.keyClicks(window.composer, "a slow one [demo tokens=60 tps=30]")
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
        await until(lambda: window.conversation_id in listing.ids(), 10, "listed")
        slow = window.conversation_id
        assert slow is not None
        await until(lambda: listing.is_generating(slow), 10, "dot while generating")
        # The user moves on; the reply finishes unseen and the dot goes by itself.
        window.new_conversation()
        await until(lambda: not listing.is_generating(slow), 20, "dot gone when done")
        window.open_conversation(slow)
        await until(
            lambda: [t.status for t in window.model.turns.values()] == ["done"], 10, "reply there"
        )

    loop.run_until_complete(scenario())
