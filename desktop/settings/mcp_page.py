"""The Settings dialog's "MCP servers" page: the servers in mcp.json with what the
backend found when it last started each (status, tools, why one failed and the last
lines it wrote), Remove, and Add from a pasted JSON block.

A block pasted from a server's README works as it is: the whole ``{"mcpServers":
{...}}``, or one or more ``"name": {...}`` entries. It is checked as the backend
will read it before anything is written, and a problem is said in one line. A
value of ``env`` or ``headers`` ticked as secret goes to the OS keyring, and
mcp.json holds only ``keyring:NAME`` in its place.

Changes apply at once: the running backend reads mcp.json again within a second
and checks the server; this page reads what it found (``mcp_status.json``) every
second while the dialog is shown.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from backend.local.paths import DataDir
from backend.mcp import config as mcp_config
from backend.mcp.config import SECRET_PREFIX, McpConfigError, parse_server
from backend.mcp.secrets import SecretUnavailable, delete_secret, set_secret
from backend.mcp.status import ServerStatus, current, read_statuses
from desktop.chat.tool_panel_details import repolish
from desktop.style.tokens import SPACING

WATCH_MS = 1000  # the backend rewrites the status file within a second of a change
STDERR_LINES = 5  # of a failed server's stderr, the last lines shown
# Values under names like these are ticked as secret by default.
SECRET_HINT = re.compile(r"key|token|secret|passw|auth|bearer|credential|cookie", re.IGNORECASE)
PASTE_HINT = (
    'Paste a server\'s JSON, e.g.\n{"mcpServers": {"files": {"command": "npx", '
    '"args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/docs"]}}}\n'
    'or "name": {"url": "https://example.com/mcp", "headers": {...}}'
)
INTRO = (
    "Tools from MCP servers, in the mcpServers format of Claude Desktop, Cursor and "
    "LM Studio. Changes apply at once: the backend starts a server it is given within "
    "a second, and its tools are offered from the next reply."
)


# -- pasted JSON ---------------------------------------------------------------------------


def parse_pasted(text: str) -> dict[str, dict[str, Any]]:
    """The servers of a pasted block, by name, each checked as the backend will read
    it; a ValueError of one line says what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError("paste a server's JSON first")
    try:
        data = json.loads(text)
    except ValueError as exc:
        try:  # "name": {...} entries, as a README lists them
            data = json.loads("{" + text.rstrip().rstrip(",") + "}")
        except ValueError:
            raise ValueError(f"this is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError('paste {"mcpServers": {...}} or "name": {...} entries')
    if "mcpServers" in data:
        servers = data["mcpServers"]
        if not isinstance(servers, dict):
            raise ValueError('"mcpServers" must be an object of servers by name')
    elif "command" in data or "url" in data:
        raise ValueError('give the server a name: "name": {"command": ...}')
    else:
        servers = data
    if not servers:
        raise ValueError("there is no server in it")
    for name, entry in servers.items():
        try:
            parse_server(name, entry)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return servers


def secret_candidates(servers: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(server, "env" or "headers", key) of every value that could be kept as a secret
    (those already ``keyring:NAME`` are)."""
    found = []
    for name, entry in servers.items():
        field = "env" if "command" in entry else "headers"
        for key, value in (entry.get(field) or {}).items():
            if isinstance(value, str) and value and not value.startswith(SECRET_PREFIX):
                found.append((name, field, key))
    return found


def secret_name(server: str, key: str) -> str:
    """The keyring name a server's secret is kept under (as mcp.json may name it)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{server}.{key}")[:100]


def with_secrets(
    servers: dict[str, dict[str, Any]], secret: set[tuple[str, str, str]]
) -> dict[str, dict[str, Any]]:
    """Store each chosen value in the keyring; the entries naming them in its place.
    SecretUnavailable when the keyring will not take one."""
    entries = copy.deepcopy(servers)
    for server, field, key in sorted(secret):
        name = secret_name(server, key)
        set_secret(name, entries[server][field][key])
        entries[server][field][key] = SECRET_PREFIX + name
    return entries


# -- the servers' status -------------------------------------------------------------------


class McpStatusWatch(QObject):
    """Reads mcp.json and the backend's status board; ``changed`` when what they say
    changes (looked at every second while ``active()`` says someone shows it)."""

    changed = Signal()

    def __init__(self, data: DataDir, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.active = lambda: True
        self.statuses: list[ServerStatus] = []
        self.problem: str | None = None  # mcp.json cannot be used at all
        self._timer = QTimer(self)
        self._timer.setInterval(WATCH_MS)
        self._timer.timeout.connect(self._look)
        self.read()
        self._timer.start()

    def read(self) -> bool:
        """Read now; True (and ``changed``) when something is not as it was."""
        try:
            config = mcp_config.load(self.data.mcp_file)
            statuses, problem = current(config, read_statuses(self.data.mcp_status_file)), None
        except McpConfigError as exc:
            statuses, problem = [], str(exc)
        if (statuses, problem) == (self.statuses, self.problem):
            return False
        self.statuses, self.problem = statuses, problem
        self.changed.emit()
        return True

    def _look(self) -> None:
        if self.active():
            self.read()

    def ready_tools(self) -> dict[str, list[Any]]:
        return {s.name: list(s.tools) for s in self.statuses if s.status == "ready"}


def _label(name: str, text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class ServerRow(QFrame):
    """One server: name, status chip, tool count, Remove (confirmed in place); for one
    that cannot be used, why, and the last lines it wrote."""

    remove_requested = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName("mcpServerRow")
        self.name_label = _label("mcpServerName", name, wrap=False)
        self.chip = _label("mcpStatusChip", wrap=False)
        self.tools_label = _label("mcpServerTools", wrap=False)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setProperty("variant", "ghost")
        self.remove_button.setAccessibleName(f"Remove the MCP server {name}")
        self.remove_button.clicked.connect(self._ask)
        self.confirm_button = QPushButton("Remove server")
        self.confirm_button.setProperty("variant", "danger")
        self.confirm_button.setAccessibleName(f"Confirm: remove the MCP server {name}")
        self.confirm_button.clicked.connect(lambda: self.remove_requested.emit(self.name))
        self.cancel_button = QPushButton("Keep")
        self.cancel_button.setProperty("variant", "ghost")
        self.cancel_button.clicked.connect(self._take_back)
        for button in (self.confirm_button, self.cancel_button):
            button.hide()
        head = QHBoxLayout()
        head.setSpacing(SPACING.sm)
        head.addWidget(self.name_label)
        head.addWidget(self.chip)
        head.addWidget(self.tools_label, 1)
        for button in (self.remove_button, self.confirm_button, self.cancel_button):
            head.addWidget(button)
        self.error_label = _label("mcpServerError")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stderr_label = _label("mcpServerStderr", wrap=False)
        self.stderr_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.stderr_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column = QVBoxLayout(self)
        column.setContentsMargins(SPACING.md, SPACING.sm, SPACING.sm, SPACING.sm)
        column.setSpacing(SPACING.xs)
        column.addLayout(head)
        column.addWidget(self.error_label)
        column.addWidget(self.stderr_label)

    def show_status(self, status: ServerStatus) -> None:
        self.chip.setText(status.status)
        repolish(self.chip, "state", status.status)
        count = len(status.tools)
        tools = f"{count} tool{'s' if count != 1 else ''}" if status.status == "ready" else ""
        self.tools_label.setText(tools)
        self.tools_label.setToolTip(", ".join(t.name for t in status.tools))
        self.error_label.setText(status.error or "")
        self.error_label.setVisible(bool(status.error))
        tail = status.stderr[-STDERR_LINES:] if status.status == "failed" else []
        self.stderr_label.setText("\n".join(tail))
        self.stderr_label.setVisible(bool(tail))

    def _ask(self) -> None:
        self.remove_button.hide()
        self.confirm_button.show()
        self.cancel_button.show()
        self.confirm_button.setFocus()

    def _take_back(self) -> None:
        self.confirm_button.hide()
        self.cancel_button.hide()
        self.remove_button.show()
        self.remove_button.setFocus()


class McpPage(QWidget):
    servers_changed = Signal()  # a server was added or removed (mcp.json was written)

    def __init__(self, data: DataDir, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.watch = McpStatusWatch(data, self)
        self.rows: dict[str, ServerRow] = {}
        self._pasted: dict[str, dict[str, Any]] = {}
        self.secret_boxes: dict[tuple[str, str, str], QCheckBox] = {}

        intro = _label("settingsNote", INTRO)
        self.problem_label = _label("settingsError")
        self.problem_label.hide()
        self.empty_label = _label("settingsNote", "No MCP servers yet: add one below.")
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(SPACING.xs)
        listing = QWidget()
        listing_column = QVBoxLayout(listing)
        listing_column.setContentsMargins(0, 0, 0, 0)
        listing_column.addWidget(self.empty_label)
        listing_column.addLayout(self.list_box)
        listing_column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(listing)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.paste_edit = QPlainTextEdit()
        self.paste_edit.setObjectName("mcpPaste")
        self.paste_edit.setAccessibleName("MCP server JSON to add")
        self.paste_edit.setPlaceholderText(PASTE_HINT)
        self.paste_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.paste_edit.setTabChangesFocus(True)
        self.paste_edit.setFixedHeight(110)
        self.paste_edit.textChanged.connect(self._check_paste)
        self.check_label = _label("settingsNote")  # what Add would do, or what is wrong
        self.secrets_title = _label(
            "settingsNote", "Keep these values in the keyring, never in mcp.json:"
        )
        self.secrets_box = QVBoxLayout()
        self.secrets_box.setSpacing(SPACING.xxs)
        self.add_button = QPushButton("Add server")
        self.add_button.setProperty("variant", "primary")
        self.add_button.clicked.connect(self.add)
        self.result_label = _label("settingsNote")
        add_row = QHBoxLayout()
        add_row.addWidget(self.result_label, 1)
        add_row.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignTop)

        column = QVBoxLayout(self)
        column.setSpacing(SPACING.sm)
        column.addWidget(intro)
        column.addWidget(self.problem_label)
        column.addWidget(scroll, 1)
        column.addWidget(_label("settingsSection", "Add a server"))
        column.addWidget(self.paste_edit)
        column.addWidget(self.check_label)
        column.addWidget(self.secrets_title)
        column.addLayout(self.secrets_box)
        column.addLayout(add_row)

        self.watch.active = self.isVisible
        self.watch.changed.connect(self.show_servers)
        self.show_servers()
        self._check_paste()

    # -- the list ------------------------------------------------------------------------

    def show_servers(self) -> None:
        problem = self.watch.problem
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(bool(problem))
        statuses = {s.name: s for s in self.watch.statuses}
        for name in [n for n in self.rows if n not in statuses]:
            row = self.rows.pop(name)
            self.list_box.removeWidget(row)
            row.hide()
            row.deleteLater()
        for index, (name, status) in enumerate(statuses.items()):
            row = self.rows.get(name)
            if row is None:
                row = self.rows[name] = ServerRow(name)
                row.remove_requested.connect(self.remove)
                self.list_box.insertWidget(index, row)
                row.show()  # now, not when the layout's queued call would
            row.show_status(status)
        self.empty_label.setVisible(not statuses and not problem)
        self._check_paste()  # "replaces" depends on what is configured

    def remove(self, name: str) -> None:
        try:
            made_here = self._secrets_made_for(name)
            removed = mcp_config.remove_server(self.data.mcp_file, name)
            still_named = {
                ref
                for server in mcp_config.load(self.data.mcp_file).servers.values()
                for ref in mcp_config.secret_references(server)
            }
            for secret in made_here - still_named:  # the secrets Add stored for it go too
                delete_secret(secret)
        except (OSError, McpConfigError, SecretUnavailable) as exc:
            self._say(f"{name} was not removed: {exc}", error=True)
            return
        self._say(f"Removed {name}." if removed else f"{name} was no longer configured.")
        self.watch.read()
        self.servers_changed.emit()

    def _secrets_made_for(self, name: str) -> set[str]:
        """The keyring secrets Add stored for this server (named after it)."""
        server = mcp_config.load(self.data.mcp_file).servers.get(name)
        if server is None:
            return set()
        prefix = secret_name(name, "")
        return {r for r in mcp_config.secret_references(server) if r.startswith(prefix)}

    # -- adding --------------------------------------------------------------------------

    def _check_paste(self) -> None:
        """Check the pasted block as it is typed: what Add would do, or what is wrong."""
        text = self.paste_edit.toPlainText()
        try:
            servers = parse_pasted(text) if text.strip() else {}
            problem = None
        except ValueError as exc:
            servers, problem = {}, str(exc)
        if servers != self._pasted:
            self._pasted = servers
            self._offer_secrets(servers)
        if problem:
            self.check_label.setText(f"✘ {problem}")
        elif servers:
            configured = {s.name for s in self.watch.statuses}
            names = ", ".join(
                f"{n} (replaces the one configured)" if n in configured else n for n in servers
            )
            self.check_label.setText(f"✔ Ready to add: {names}")
        else:
            self.check_label.setText("")
        repolish(self.check_label, "state", "error" if problem else "ok")
        self.check_label.setVisible(bool(self.check_label.text()))
        self.add_button.setEnabled(bool(servers))

    def _offer_secrets(self, servers: dict[str, dict[str, Any]]) -> None:
        for box in self.secret_boxes.values():
            self.secrets_box.removeWidget(box)
            box.hide()
            box.deleteLater()
        self.secret_boxes = {}
        for server, field, key in secret_candidates(servers):
            where = "environment variable" if field == "env" else "header"
            box = QCheckBox(f"{server}: {where} {key}")
            box.setToolTip(f"Stored in the keyring as {secret_name(server, key)}")
            box.setChecked(bool(SECRET_HINT.search(key)))
            self.secret_boxes[(server, field, key)] = box
            self.secrets_box.addWidget(box)
        self.secrets_title.setVisible(bool(self.secret_boxes))

    def add(self) -> bool:
        """Add the pasted servers (their ticked values to the keyring first)."""
        try:
            servers = parse_pasted(self.paste_edit.toPlainText())
        except ValueError as exc:
            self._say(f"Not added: {exc}", error=True)
            return False
        chosen = {spot for spot, box in self.secret_boxes.items() if box.isChecked()}
        try:
            entries = with_secrets(servers, chosen)
        except SecretUnavailable as exc:
            self._say(f"Not added: {exc}", error=True)
            return False
        try:
            self.data.ensure()
            for name, entry in entries.items():
                mcp_config.add_server(self.data.mcp_file, name, entry)
        except (ValueError, OSError, McpConfigError) as exc:
            self._say(f"Not added: {' '.join(str(exc).split())}", error=True)
            return False
        names = ", ".join(entries)
        self.paste_edit.clear()
        self._say(f"Added {names}: the backend starts it and lists its tools.")
        self.watch.read()
        self.servers_changed.emit()
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.result_label.setText(text)
        repolish(self.result_label, "state", "error" if error else "ok")
