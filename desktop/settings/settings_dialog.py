"""The Settings dialog: provider, base URL, model, API key, granted folder, web UI, theme;
and on pages of their own (saved at once, not by Save) the MCP servers
(``mcp_page.py``) and the tool policies (``tools_page.py``).

The API key goes to the OS keyring and nowhere else: the key field never shows a
stored key (only a placeholder saying one exists), and settings.json never holds it.
"Test connection" runs on the qasync loop, so the dialog keeps responding meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import keyring
import keyring.errors
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from backend.local import keys
from backend.local.paths import DataDir
from backend.local.settings import DEFAULT_MODELS, OPENAI_BASE_URL, Settings, SettingsError
from backend.models.connection_check import ConnectionResult, as_sentence, check_connection
from backend.models.endpoint import base_url_problem, unsafe_key_problem
from desktop.settings.mcp_page import McpPage
from desktop.settings.tools_page import ToolsPage

PROVIDERS = {
    "demo": "Demo model (offline, no key)",
    "openai": "OpenAI",
    "openai-compatible": "OpenAI-compatible server (Ollama, LM Studio, vLLM…)",
}
THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
WEB_UI_NOTE = "Temporal Web UI (applies the next time the backend starts)"
# The UI has no codec server: it never holds the key, so it is no way around the
# encryption. Said where the user turns it on.
WEB_UI_SHOWS = (
    "The Web UI shows each conversation's timeline: turns, model and tool calls, "
    "timings, retries and errors by type. Messages, replies, tool arguments and "
    "results stay encrypted there: it never holds your key."
)


class SettingsDialog(QDialog):
    settings_saved = Signal(object)  # the new Settings, after they are on disk

    def __init__(
        self, data: DataDir, demo_base_url: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.data = data
        self.demo_base_url = demo_base_url
        self._test_task: asyncio.Task[None] | None = None
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        load_error: str | None = None
        try:
            self._loaded = Settings.load(data.settings_file)
        except SettingsError as exc:
            # Start from the defaults; the damaged file stays until the user saves.
            self._loaded = Settings()
            load_error = f"{as_sentence(str(exc))} Saving replaces it with the settings below."
        # Each provider keeps its own base URL and model while the dialog is open, so
        # switching providers back and forth loses nothing typed.
        self._base_urls = {self._loaded.provider: self._loaded.base_url or ""}
        self._models = {self._loaded.provider: self._loaded.model or ""}
        self._typed_keys: dict[str, str] = {}  # never a stored key: only what was typed here
        self._provider = self._loaded.provider
        self._build()
        self._show_error(load_error)
        self._load_form()

    # -- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        self.error_label = _wrapping_label()
        self.error_label.setStyleSheet("color: #c0392b;")

        self.provider_combo = QComboBox()
        for value, label in PROVIDERS.items():
            self.provider_combo.addItem(label, value)
        self.base_url_edit = QLineEdit()
        self.model_edit = QLineEdit()

        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remove_key_button = QPushButton("Remove key")
        self.remove_key_button.setToolTip("Delete this provider's key from the keyring now")
        self.remove_key_button.clicked.connect(self._remove_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.remove_key_button)
        self.key_note = _wrapping_label()

        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("none: the file tools can read nothing")
        self.folder_button = QPushButton("Choose…")
        self.folder_button.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.folder_button)

        self.web_ui_check = QCheckBox(WEB_UI_NOTE)
        self.web_ui_check.setToolTip(WEB_UI_SHOWS)
        self.theme_combo = QComboBox()
        for value, label in THEMES.items():
            self.theme_combo.addItem(label, value)

        form = self._form = QFormLayout()
        form.addRow("Provider", self.provider_combo)
        form.addRow("Base URL", self.base_url_edit)
        form.addRow("Model", self.model_edit)
        form.addRow("API key", key_row)
        form.addRow("", self.key_note)
        form.addRow("Granted folder", folder_row)
        form.addRow("", self.web_ui_check)
        web_ui_shows = QLabel(WEB_UI_SHOWS)
        web_ui_shows.setWordWrap(True)
        web_ui_shows.setEnabled(False)  # greyed: an explanation, not a control
        form.addRow("", web_ui_shows)
        form.addRow("Theme", self.theme_combo)

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = _wrapping_label()
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        general = QWidget()
        general_column = QVBoxLayout(general)
        general_column.addLayout(form)
        general_column.addLayout(test_row)
        general_column.addStretch(1)
        self.mcp_page = McpPage(self.data)
        self.mcp_page.watch.active = self.isVisible
        self.tools_page = ToolsPage(self.data, self.mcp_page.watch)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.mcp_page, "MCP servers")
        self.tabs.addTab(self.tools_page, "Tools")

        layout = QVBoxLayout(self)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)

    def _load_form(self) -> None:
        s = self._loaded
        self.provider_combo.setCurrentIndex(self.provider_combo.findData(s.provider))
        self.folder_edit.setText(s.granted_folder or "")
        self.web_ui_check.setChecked(s.web_ui)
        self.theme_combo.setCurrentIndex(self.theme_combo.findData(s.theme))
        self._show_provider()
        # Only now: choosing the loaded provider above is not the user switching providers.
        self.provider_combo.currentIndexChanged.connect(self._provider_changed)

    # -- provider-dependent fields ------------------------------------------------------

    @property
    def provider(self) -> str:
        return str(self.provider_combo.currentData())

    def _provider_changed(self) -> None:
        self._base_urls[self._provider] = self.base_url_edit.text()
        self._models[self._provider] = self.model_edit.text()
        self._typed_keys[self._provider] = self.key_edit.text()
        self._provider = self.provider
        self.test_result.clear()
        self._show_provider()

    def _show_provider(self) -> None:
        provider = self.provider
        base_url = self._base_urls.get(provider, "")
        self.base_url_edit.setText(base_url)
        # OpenAI's base URL is api.openai.com unless `serve --base-url` set a proxy; a set
        # one stays editable, so a wrong or stale one (a plain-http URL the OpenAI key
        # must not go to) can be fixed or cleared here.
        self.base_url_edit.setEnabled(
            provider == "openai-compatible" or (provider == "openai" and bool(base_url))
        )
        self.base_url_edit.setPlaceholderText(
            {
                "demo": "built in",
                "openai": OPENAI_BASE_URL,
                "openai-compatible": "e.g. http://127.0.0.1:11434/v1",
            }[provider]
        )
        self.model_edit.setText(self._models.get(provider, ""))
        self.model_edit.setEnabled(provider != "demo")
        self.model_edit.setPlaceholderText(DEFAULT_MODELS[provider])
        # A key typed for one provider must not be saved as another's.
        self.key_edit.setText(self._typed_keys.get(provider, ""))
        self._show_key_state()

    def _show_key_state(self) -> None:
        provider = self.provider
        env_var = keys.env_var_for(provider)
        env_note = f"The key in the environment variable {env_var} is in use." if env_var else ""
        if provider == "demo":
            self._set_key_widgets(False, "the demo model needs no key", has_key=False)
            self._set_key_note("")
        elif not keys.keyring_available():
            self._set_key_widgets(False, "no keyring on this system", has_key=False)
            self._set_key_note(_join(as_sentence(keys.NO_KEYRING), env_note))
        else:
            try:
                has_key = keyring.get_password(keys.SERVICE, provider) is not None
            except keyring.errors.KeyringError as exc:
                self._set_key_widgets(False, "the keyring cannot be read", has_key=False)
                self._set_key_note(f"The keyring could not be read: {exc}.")
                return
            placeholder = (
                "stored in the keyring (leave empty to keep it)"
                if has_key
                else "paste the key; it is stored in the OS keyring"
            )
            self._set_key_widgets(True, placeholder, has_key=has_key)
            precedence = " It takes precedence over a key stored here." if env_var else ""
            self._set_key_note(env_note + precedence)

    def _set_key_note(self, text: str) -> None:
        self.key_note.setText(text)
        self._form.setRowVisible(self.key_note, bool(text))

    def _set_key_widgets(self, enabled: bool, placeholder: str, has_key: bool) -> None:
        self.key_edit.setEnabled(enabled)
        self.key_edit.setPlaceholderText(placeholder)
        self.remove_key_button.setEnabled(enabled and has_key)

    def _remove_key(self) -> None:
        try:
            keys.delete_api_key(self.provider)
        except keyring.errors.KeyringError as exc:
            self._show_error(f"The key could not be removed from the keyring: {exc}.")
            return
        self.key_edit.clear()
        self._show_key_state()
        self._set_key_note(_join("The key was removed from the keyring.", self.key_note.text()))

    def _choose_folder(self) -> None:
        start = self.folder_edit.text().strip() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder the file tools may read", start)
        if folder:
            self.folder_edit.setText(folder)

    # -- the form as Settings -----------------------------------------------------------

    def form_settings(self) -> Settings:
        """The settings as the form shows them now (not yet saved)."""
        provider = self.provider
        base_url = self.base_url_edit.text().strip() if provider != "demo" else ""
        model = self.model_edit.text().strip() if provider != "demo" else ""
        folder = self.folder_edit.text().strip()
        return Settings.model_validate(
            {
                **self._loaded.model_dump(),  # keeps fields this dialog does not show
                # Saved as they are now: the Tools page (or "Always allow" on a card)
                # may have changed them since the dialog opened.
                "tool_policies": self._policies_now(),
                "provider": provider,
                "base_url": base_url or None,
                "model": model or None,
                "granted_folder": str(Path(folder).expanduser().absolute()) if folder else None,
                "web_ui": self.web_ui_check.isChecked(),
                "theme": self.theme_combo.currentData(),
            }
        )

    def _policies_now(self) -> dict[str, str]:
        try:
            return dict(Settings.load(self.data.settings_file).tool_policies)
        except SettingsError:
            return dict(self._loaded.tool_policies)

    def _problem(self, settings: Settings) -> str | None:
        needs_url = settings.provider == "openai-compatible"
        if (needs_url or settings.base_url) and (problem := base_url_problem(settings.base_url)):
            return as_sentence(problem)
        # A key typed now would be stored for a server it must never be sent to (the
        # form gives the demo model no base URL).
        typed_key = bool(self.key_edit.text().strip())
        if (
            typed_key
            and settings.base_url
            and (problem := unsafe_key_problem(settings, settings.base_url))
        ):
            return as_sentence(problem)
        folder = settings.granted_folder
        if folder and not Path(folder).is_dir():
            return f"The granted folder {folder} does not exist or is not a folder."
        return None

    # -- save -------------------------------------------------------------------------

    def save(self) -> bool:
        """Write the settings (and a typed key to the keyring); close on success.
        On any failure the dialog stays open with everything as typed."""
        settings = self.form_settings()
        if problem := self._problem(settings):
            self._show_error(problem)
            return False
        try:
            self.data.ensure()
            settings.save(self.data.settings_file)
        except (OSError, SettingsError) as exc:
            self._show_error(f"The settings were not saved: {exc}.")
            return False
        self._loaded = settings
        key = self.key_edit.text().strip()
        if key and settings.provider != "demo":
            try:
                keys.set_api_key(settings.provider, key)
            except keys.KeyUnavailable as exc:
                self._show_error(f"The settings were saved, but the API key was not: {exc}.")
                self.settings_saved.emit(settings)
                return False
        self.key_edit.clear()
        self._typed_keys.clear()
        self._show_error(None)
        self.settings_saved.emit(settings)
        self.accept()
        return True

    def _show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    # -- test connection ----------------------------------------------------------------

    def test_connection(self) -> None:
        """Check the provider as the form shows it, with the typed key or else the stored
        one; the result appears in ``test_result``."""
        if self._test_task is not None and not self._test_task.done():
            return
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        self._test_task = asyncio.ensure_future(
            self._run_test(self.form_settings(), self.key_edit.text().strip() or None)
        )

    async def _run_test(self, settings: Settings, typed_key: str | None) -> None:
        try:
            key = typed_key
            if key is None and settings.provider != "demo":
                # A keyring may wait on D-Bus or an unlock prompt: not on the UI thread.
                key = await asyncio.to_thread(keys.get_api_key, settings.provider)
            result = await check_connection(settings, key, self.demo_base_url)
        except keys.KeyUnavailable as exc:
            result = ConnectionResult(False, as_sentence(str(exc)))
        finally:
            self.test_button.setEnabled(True)
        self.test_result.setText(f"{'✔' if result.ok else '✘'} {result.message}")

    def done(self, result: int) -> None:
        if self._test_task is not None:
            self._test_task.cancel()
        super().done(result)


def _wrapping_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    return label


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)
