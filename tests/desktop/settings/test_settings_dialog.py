"""The Settings dialog against the real keyring API (in memory) and a real demo model."""

from __future__ import annotations

import json
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import qasync
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from backend.local import keys
from backend.local.paths import DataDir
from backend.local.settings import Settings
from desktop.settings.settings_dialog import SettingsDialog
from desktop.settings.theme import apply_theme
from tests.desktop.conftest import until
from tests.support.demo_model_process import demo_model

DEMO_KEY = f"sk-demo-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with demo_model("--tokens-per-second", "0") as url:
        yield url


@pytest.fixture(scope="module")
def keyed_demo_url() -> Iterator[str]:
    """A demo model that answers only to DEMO_KEY, as a real provider checks its keys."""
    with demo_model("--require-key-env", "DEMO_REQUIRED_KEY", DEMO_REQUIRED_KEY=DEMO_KEY) as url:
        yield url


@pytest.fixture(autouse=True)
def clean_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No key from the environment or an earlier test decides what the dialog shows."""
    for var in keys.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    for provider in ("openai", "openai-compatible"):
        keys.delete_api_key(provider)


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def open_dialog(qtbot: QtBot, data: DataDir, demo_base_url: str | None = None) -> SettingsDialog:
    dialog = SettingsDialog(data, demo_base_url)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def choose(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))


def type_into(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def save(qtbot: QtBot, dialog: SettingsDialog) -> Settings:
    with qtbot.waitSignal(dialog.settings_saved, timeout=5000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return saved.args[0]


def all_texts(dialog: QDialog) -> list[str]:
    """Every string the dialog could show a user, hidden or not."""
    texts = [dialog.windowTitle()]
    for widget in dialog.findChildren(QWidget):
        texts.append(widget.toolTip())
        if isinstance(widget, QLineEdit):
            texts += [widget.text(), widget.displayText(), widget.placeholderText()]
        elif isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
    return texts


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_saved_key_is_in_the_keyring_and_in_no_file(qtbot: QtBot, data: DataDir) -> None:
    key = f"sk-test-{secrets.token_hex(16)}"
    dialog = open_dialog(qtbot, data)
    assert not dialog.key_edit.isEnabled()  # the default provider, demo, needs no key
    choose(dialog.provider_combo, "openai")
    assert dialog.key_edit.isEnabled() and not dialog.base_url_edit.isEnabled()
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password
    type_into(qtbot, dialog.key_edit, key)
    assert key not in dialog.key_edit.displayText()  # masked while typed
    # A key typed for OpenAI is not offered to another provider, and is kept for OpenAI.
    choose(dialog.provider_combo, "openai-compatible")
    assert dialog.key_edit.text() == ""
    choose(dialog.provider_combo, "openai")
    assert dialog.key_edit.text() == key

    saved = save(qtbot, dialog)

    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert saved.provider == "openai"
    assert keyring.get_password("durachat", "openai") == key
    assert keyring.get_password("durachat", "openai-compatible") is None
    settings_text = data.settings_file.read_text()
    assert json.loads(settings_text)["provider"] == "openai" and key not in settings_text
    assert stat.S_IMODE(data.settings_file.stat().st_mode) == 0o600
    files = [p for p in data.root.rglob("*") if p.is_file()]
    assert data.settings_file in files
    assert [p for p in files if key.encode() in p.read_bytes()] == []


def test_a_stored_key_never_reaches_a_widget_and_can_be_removed(
    qtbot: QtBot, data: DataDir
) -> None:
    key = f"sk-test-{secrets.token_hex(16)}"
    data.ensure()
    Settings(provider="openai").save(data.settings_file)
    keys.set_api_key("openai", key)

    dialog = open_dialog(qtbot, data)
    assert dialog.provider_combo.currentData() == "openai"
    assert dialog.key_edit.text() == ""
    assert "stored in the keyring" in dialog.key_edit.placeholderText()
    choose(dialog.provider_combo, "openai-compatible")
    choose(dialog.provider_combo, "openai")
    assert [t for t in all_texts(dialog) if key in t] == []

    # Saving with the key field left empty keeps the stored key.
    save(qtbot, dialog)
    assert keyring.get_password("durachat", "openai") == key

    dialog = open_dialog(qtbot, data)
    assert dialog.remove_key_button.isEnabled()
    qtbot.mouseClick(dialog.remove_key_button, Qt.MouseButton.LeftButton)
    assert keyring.get_password("durachat", "openai") is None
    assert "removed" in dialog.key_note.text()
    assert "stored in the keyring" not in dialog.key_edit.placeholderText()
    assert not dialog.remove_key_button.isEnabled()


def test_a_key_in_the_environment_is_named(
    qtbot: QtBot, data: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DURACHAT_API_KEY", "sk-from-env")
    dialog = open_dialog(qtbot, data)
    choose(dialog.provider_combo, "openai")
    assert "DURACHAT_API_KEY" in dialog.key_note.text()
    assert [t for t in all_texts(dialog) if "sk-from-env" in t] == []


@pytest.fixture
def no_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_without_a_keyring_the_key_field_is_off_and_says_why(
    qtbot: QtBot, data: DataDir, no_keyring: None
) -> None:
    dialog = open_dialog(qtbot, data)
    choose(dialog.provider_combo, "openai")
    assert not dialog.key_edit.isEnabled() and not dialog.remove_key_button.isEnabled()
    note = dialog.key_note.text()
    assert dialog.key_note.isVisible()
    assert "no keyring" in note.lower() and "DURACHAT_API_KEY" in note

    choose(dialog.theme_combo, "dark")
    dialog.web_ui_check.setChecked(True)
    saved = save(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (saved.provider, saved.theme, saved.web_ui) == ("openai", "dark", True)
    assert Settings.load(data.settings_file) == saved


def test_the_form_is_saved_as_shown_and_a_bad_base_url_is_refused(
    qtbot: QtBot, data: DataDir, tmp_path: Path
) -> None:
    folder = tmp_path / "granted"
    folder.mkdir()
    dialog = open_dialog(qtbot, data)
    choose(dialog.provider_combo, "openai-compatible")
    assert dialog.base_url_edit.isEnabled() and dialog.model_edit.isEnabled()
    assert dialog.model_edit.placeholderText() == "llama3.2"
    type_into(qtbot, dialog.base_url_edit, "localhost:11434")
    type_into(qtbot, dialog.model_edit, "qwen3:8b")
    type_into(qtbot, dialog.folder_edit, str(folder))
    choose(dialog.theme_combo, "light")

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error_label.isVisible()
    assert "'localhost:11434' is not an http(s) URL" in dialog.error_label.text()
    assert not data.settings_file.exists()

    type_into(qtbot, dialog.base_url_edit, "http://127.0.0.1:11434/v1")
    saved = save(qtbot, dialog)
    assert saved == Settings.load(data.settings_file)
    assert (saved.provider, saved.base_url, saved.model) == (
        "openai-compatible",
        "http://127.0.0.1:11434/v1",
        "qwen3:8b",
    )
    assert (saved.granted_folder, saved.theme, saved.web_ui) == (str(folder), "light", False)

    again = open_dialog(qtbot, data)
    assert again.provider_combo.currentData() == "openai-compatible"
    assert again.base_url_edit.text() == "http://127.0.0.1:11434/v1"
    assert again.model_edit.text() == "qwen3:8b"
    assert again.folder_edit.text() == str(folder)
    assert again.theme_combo.currentData() == "light"
    assert "next time the backend starts" in again.web_ui_check.text()


def test_a_damaged_settings_file_is_shown_and_replaced_on_save(qtbot: QtBot, data: DataDir) -> None:
    data.ensure()
    data.settings_file.write_text('{"provider": "openai", ')
    dialog = open_dialog(qtbot, data)
    assert dialog.error_label.isVisible()
    assert "damaged" in dialog.error_label.text()
    assert str(data.settings_file) in dialog.error_label.text()
    assert dialog.provider_combo.currentData() == "demo"  # the defaults
    assert data.settings_file.read_text() == '{"provider": "openai", '  # untouched so far

    saved = save(qtbot, dialog)
    assert Settings.load(data.settings_file) == saved == Settings()


def run_test_connection(qtbot: QtBot, loop: qasync.QEventLoop, dialog: SettingsDialog) -> str:
    async def scenario() -> str:
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        # The check runs as a task: the dialog is still live and says it is testing.
        assert dialog.test_result.text() == "Testing…" and not dialog.test_button.isEnabled()
        await until(lambda: dialog.test_button.isEnabled(), 20, "the connection test")
        return dialog.test_result.text()

    return loop.run_until_complete(scenario())


def test_test_connection_reaches_the_demo_model(
    qtbot: QtBot, loop: qasync.QEventLoop, data: DataDir, demo_url: str
) -> None:
    dialog = open_dialog(qtbot, data, demo_base_url=demo_url)
    result = run_test_connection(qtbot, loop, dialog)
    assert result.startswith("✔ Connected to " + demo_url)
    assert "'durachat-demo' is available" in result


def test_test_connection_names_an_unreachable_server(
    qtbot: QtBot, loop: qasync.QEventLoop, data: DataDir, demo_url: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    dialog = open_dialog(qtbot, data, demo_base_url=demo_url)
    choose(dialog.provider_combo, "openai-compatible")
    type_into(qtbot, dialog.base_url_edit, url)
    result = run_test_connection(qtbot, loop, dialog)
    assert result == (
        f"✘ Could not reach {url}: the connection was refused "
        "(is the server running on that port?)."
    )
    assert not data.settings_file.exists()  # testing saves nothing


def test_test_connection_reports_a_wrong_key_without_showing_it(
    qtbot: QtBot, loop: qasync.QEventLoop, data: DataDir, keyed_demo_url: str
) -> None:
    wrong = f"sk-wrong-{secrets.token_hex(8)}"
    dialog = open_dialog(qtbot, data)
    choose(dialog.provider_combo, "openai-compatible")
    type_into(qtbot, dialog.base_url_edit, keyed_demo_url)
    type_into(qtbot, dialog.model_edit, "durachat-demo")
    type_into(qtbot, dialog.key_edit, wrong)
    result = run_test_connection(qtbot, loop, dialog)
    assert result == f"✘ {keyed_demo_url} rejected the API key (401 Unauthorized); check the key."
    assert wrong not in result

    # With the field empty, the check uses the key stored in the keyring.
    keys.set_api_key("openai-compatible", DEMO_KEY)
    dialog.key_edit.clear()
    result = run_test_connection(qtbot, loop, dialog)
    assert result.startswith(f"✔ Connected to {keyed_demo_url}")


@pytest.fixture
def system_theme_after(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    apply_theme(qapp, "system")


def test_dark_and_light_themes_change_the_palette(system_theme_after: QApplication) -> None:
    app = system_theme_after

    def window_lightness() -> int:
        return app.palette().color(QPalette.ColorRole.Window).lightness()

    apply_theme(app, "dark")
    assert window_lightness() < 80
    assert app.palette().color(QPalette.ColorRole.Text).lightness() > 180
    apply_theme(app, "light")
    assert window_lightness() > 200
    assert app.palette().color(QPalette.ColorRole.Text).lightness() < 80
