"""Settings' "MCP servers" and "Tools" pages on a real data dir and the tests' file
keyring: pasting a server (the formats READMEs use, one-line problems), a secret
kept in the keyring and never in mcp.json, the backend's status of each server,
Remove, and tool policies saved from the Tools page."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.mcp import config as mcp_config
from backend.mcp.config import config_hash
from backend.mcp.secrets import SERVICE
from backend.mcp.status import ServerStatus, write_statuses
from backend.tools.offer import McpTool
from desktop.settings.mcp_page import parse_pasted, secret_name
from desktop.settings.settings_dialog import SettingsDialog

SECRET = "sk-mcp-0123456789abcdef"


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").ensure()


def open_dialog(qtbot: QtBot, data: DataDir) -> SettingsDialog:
    dialog = SettingsDialog(data, None)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_pasted_block_is_read_in_the_formats_readmes_use() -> None:
    whole = '{"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-files"]}}}'
    assert parse_pasted(whole) == {"files": {"command": "npx", "args": ["-y", "server-files"]}}
    entries = '"a": {"command": "a-server"},\n"b": {"url": "https://example.com/mcp"},\n'
    assert list(parse_pasted(entries)) == ["a", "b"]
    assert list(parse_pasted('{"c": {"command": "c"}}')) == ["c"]
    for text, problem in (
        ("", "paste a server's JSON first"),
        ("{nope", "this is not JSON: "),
        ('{"command": "x"}', 'give the server a name: "name": {"command": ...}'),
        ('"bad name!": {"command": "x"}', "bad name!: a server name is 1 to 32"),
        ('"s": {"args": []}', 's: the entry needs a "command"'),
        ('"s": {"url": "ftp://x"}', "s: url: the url must start with http"),
        ('{"mcpServers": {}}', "there is no server in it"),
    ):
        with pytest.raises(ValueError) as caught:
            parse_pasted(text)
        assert str(caught.value).startswith(problem) and "\n" not in str(caught.value), text


def test_adding_a_server_keeps_its_secret_in_the_keyring_only(qtbot: QtBot, data: DataDir) -> None:
    dialog = open_dialog(qtbot, data)
    dialog.tabs.setCurrentWidget(dialog.mcp_page)
    page = dialog.mcp_page
    assert page.empty_label.isVisible() and not page.add_button.isEnabled()
    pasted = {
        "mcpServers": {
            "notes": {
                "command": "notes-server",
                "env": {"NOTES_API_KEY": SECRET, "NOTES_DIR": "/tmp/notes"},
            }
        }
    }
    page.paste_edit.setPlainText(json.dumps(pasted))
    assert page.check_label.text() == "✔ Ready to add: notes" and page.add_button.isEnabled()
    boxes = {key: box for (_server, _field, key), box in page.secret_boxes.items()}
    assert set(boxes) == {"NOTES_API_KEY", "NOTES_DIR"}
    assert boxes["NOTES_API_KEY"].isChecked() and not boxes["NOTES_DIR"].isChecked()

    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)

    name = secret_name("notes", "NOTES_API_KEY")
    assert keyring.get_password(SERVICE, name) == SECRET
    text = data.mcp_file.read_text()
    assert SECRET not in text
    env = json.loads(text)["mcpServers"]["notes"]["env"]
    assert env == {"NOTES_API_KEY": f"keyring:{name}", "NOTES_DIR": "/tmp/notes"}
    assert page.paste_edit.toPlainText() == "" and page.result_label.text().startswith("Added")
    row = page.rows["notes"]
    assert row.isVisible() and row.chip.text() == "starting"  # no backend has checked it yet
    assert SECRET not in " ".join(w.text() for w in row.findChildren(type(row.chip)))
    for path in data.root.rglob("*"):  # nowhere in the data dir
        assert not path.is_file() or SECRET.encode() not in path.read_bytes(), path

    page.remove("notes")  # the secret Add stored goes with the server
    assert "notes" not in mcp_config.load(data.mcp_file).servers
    assert keyring.get_password(SERVICE, name) is None


def test_a_bad_block_says_why_in_one_line_and_writes_nothing(qtbot: QtBot, data: DataDir) -> None:
    dialog = open_dialog(qtbot, data)
    page = dialog.mcp_page
    page.paste_edit.setPlainText('"notes": {"command": "x", "env": {"1BAD": "v"}}')
    assert page.check_label.text().startswith("✘ notes: env: ")
    assert not page.add_button.isEnabled()
    assert page.add() is False and page.result_label.text().startswith("Not added: notes: ")
    assert not data.mcp_file.exists()


def test_each_server_shows_what_the_backend_found_and_can_be_removed(
    qtbot: QtBot, data: DataDir
) -> None:
    mcp_config.add_server(data.mcp_file, "good", {"command": "good-server"})
    mcp_config.add_server(data.mcp_file, "bad", {"command": "bad-server"})
    config = mcp_config.load(data.mcp_file)
    stderr = [f"line {n}" for n in range(1, 9)]
    write_statuses(
        data.mcp_status_file,
        {
            "good": ServerStatus(
                name="good",
                status="ready",
                tools=[McpTool(name="echo"), McpTool(name="add")],
                config_hash=config_hash(config.servers["good"]),
            ),
            "bad": ServerStatus(
                name="bad",
                status="failed",
                error="the server exited with status 3 before it answered",
                stderr=stderr,
                config_hash=config_hash(config.servers["bad"]),
            ),
        },
    )
    dialog = open_dialog(qtbot, data)
    dialog.tabs.setCurrentWidget(dialog.mcp_page)
    page = dialog.mcp_page
    good, bad = page.rows["good"], page.rows["bad"]
    assert (good.chip.text(), good.tools_label.text()) == ("ready", "2 tools")
    assert good.chip.property("state") == "ready" and not good.error_label.isVisible()
    assert bad.chip.text() == "failed" and bad.error_label.isVisible()
    assert bad.error_label.text() == "the server exited with status 3 before it answered"
    assert bad.stderr_label.text() == "\n".join(stderr[-5:])  # its last lines

    qtbot.mouseClick(bad.remove_button, Qt.MouseButton.LeftButton)
    assert bad.confirm_button.isVisible() and "bad" in mcp_config.load(data.mcp_file).servers
    qtbot.mouseClick(bad.cancel_button, Qt.MouseButton.LeftButton)  # kept
    assert bad.remove_button.isVisible() and "bad" in mcp_config.load(data.mcp_file).servers
    qtbot.mouseClick(bad.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(bad.confirm_button, Qt.MouseButton.LeftButton)
    assert list(mcp_config.load(data.mcp_file).servers) == ["good"]
    assert list(page.rows) == ["good"] and page.result_label.text() == "Removed bad."

    # The Tools page lists the ready server's tools beside the built-in ones.
    tools = dialog.tools_page
    sources = {t.name: t.source for t in tools.tools}
    assert sources["echo"] == "good" and sources["calculator"] == "builtin"
    row = next(r for r in range(tools.table.rowCount()) if tools.table.item(r, 0).text() == "echo")
    assert tools.table.item(row, 1).text() == "good"
    assert tools.combos["echo"].currentData() == "ask"  # may change things: it asks


def test_a_policy_chosen_on_the_tools_page_is_saved_and_kept_by_save(
    qtbot: QtBot, data: DataDir
) -> None:
    dialog = open_dialog(qtbot, data)
    dialog.tabs.setCurrentWidget(dialog.tools_page)
    tools = dialog.tools_page
    combo = tools.combos["read_file"]
    assert combo.currentData() == "ask" and combo.accessibleName() == "Policy of read_file"
    with qtbot.waitSignal(tools.policy_saved, timeout=2000) as saved:
        combo.setCurrentIndex(combo.findData("allow"))
    assert saved.args == ["read_file", "allow"]
    assert Settings.load(data.settings_file).tool_policies == {"read_file": "allow"}
    # Saving the General page afterwards keeps it (the dialog loaded the file before).
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    assert dialog.save()
    saved_settings = Settings.load(data.settings_file)
    assert saved_settings.theme == "dark" and saved_settings.tool_policies == {"read_file": "allow"}
