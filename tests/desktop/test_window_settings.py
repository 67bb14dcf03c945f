"""Settings from the window: what the user saves is what the next reply uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.local.settings import Settings
from desktop.main_window import MainWindow
from desktop.settings.settings_dialog import SettingsDialog
from tests.desktop.conftest import until
from tests.support.serve_process import ServeProcess


@pytest.fixture(autouse=True)
def demo_settings_after(backend: ServeProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("DURACHAT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    yield
    Settings().save(DataDir(backend.data_dir).settings_file)  # the demo model for later tests


def test_saved_settings_show_in_the_status_bar_and_drive_the_next_reply(
    window: MainWindow, qtbot: QtBot, loop: qasync.QEventLoop
) -> None:
    assert "demo model" in window.model_label.text()
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.provider_combo.setCurrentIndex(dialog.provider_combo.findData("openai"))
    assert dialog.save()
    assert "(openai)" in window.model_label.text()

    async def scenario() -> None:
        window.new_conversation()
        qtbot.keyClicks(window.composer, "hello")
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
        (turn_id,) = window.model.turns
        await until(lambda: window.model.turns[turn_id].status == "failed", 30, "failed turn")
        error = window.model.turns[turn_id].error or ""
        assert "no OpenAI API key is set" in error

    loop.run_until_complete(scenario())
