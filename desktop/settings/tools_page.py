"""The Settings dialog's "Tools" page: every tool the model may be offered, built-in
and from the MCP servers that are ready, with where it comes from and its policy —
Allow (runs without asking), Ask (the reply waits for the user's decision) or Deny
(never offered). A policy chosen here is saved at once (``set_tool_policy``): the
next tool call uses it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.local.paths import DataDir
from backend.local.settings import Settings, SettingsError, set_tool_policy
from backend.tools.offer import OfferedTool, offer
from backend.tools.policy import POLICIES
from desktop.chat.tool_card import source_text
from desktop.chat.tool_panel_details import repolish
from desktop.settings.mcp_page import McpStatusWatch
from desktop.style.tokens import SPACING

POLICY_WORDS = {
    "allow": ("Allow", "Runs without asking"),
    "ask": ("Ask", "The reply waits for your decision each time"),
    "deny": ("Deny", "Never offered to the model"),
}
INTRO = (
    "What each tool may do without asking. Saved at once; the next tool call uses it. "
    "The tools of an MCP server are listed once the backend has started it."
)
COLUMNS = ("Tool", "From", "Policy")


class ToolsPage(QWidget):
    policy_saved = Signal(str, str)  # tool name, policy

    def __init__(self, data: DataDir, watch: McpStatusWatch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.watch = watch
        self.tools: list[OfferedTool] = []
        self.combos: dict[str, QComboBox] = {}
        intro = QLabel(INTRO)
        intro.setObjectName("settingsNote")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("toolPolicies")
        self.table.setAccessibleName("Tools and their policies")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setTabKeyNavigation(False)  # Tab goes from one policy to the next
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.result_label = QLabel()
        self.result_label.setObjectName("settingsNote")
        self.result_label.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setSpacing(SPACING.sm)
        column.addWidget(intro)
        column.addWidget(self.table, 1)
        column.addWidget(self.result_label)
        watch.changed.connect(self.refresh)
        self.refresh()

    def _policies(self) -> dict[str, str]:
        try:
            return dict(Settings.load(self.data.settings_file).tool_policies)
        except SettingsError as exc:
            self._say(f"The settings file cannot be read ({exc}): the defaults are shown.", True)
            return {}

    def refresh(self) -> None:
        """List the tools again (an MCP server became ready, or went away)."""
        tools = offer(self.watch.ready_tools(), self._policies())  # type: ignore[arg-type]
        if [(t.name, t.source, t.policy) for t in tools] == [
            (t.name, t.source, t.policy) for t in self.tools
        ]:
            return
        self.tools = tools
        self.combos = {}
        self.table.setRowCount(len(tools))
        for row, tool in enumerate(tools):
            name = QTableWidgetItem(tool.name)
            name.setToolTip(tool.description)
            source = QTableWidgetItem(source_text(None if tool.builtin else tool.source))
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, source)
            combo = QComboBox()
            combo.setAccessibleName(f"Policy of {tool.name}")
            for value in POLICIES:
                words, tip = POLICY_WORDS[value]
                combo.addItem(words, value)
                combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(combo.findData(tool.policy))
            combo.setToolTip(POLICY_WORDS[tool.policy][1])
            combo.currentIndexChanged.connect(
                lambda _i, n=tool.name, c=combo: self.set_policy(n, str(c.currentData()))
            )
            self.table.setCellWidget(row, 2, combo)
            self.combos[tool.name] = combo
        self.table.resizeRowsToContents()

    def set_policy(self, name: str, policy: str) -> None:
        try:
            self.data.ensure()
            set_tool_policy(self.data.settings_file, name, policy)  # type: ignore[arg-type]
        except (SettingsError, OSError) as exc:
            self._say(f"{name}: not saved ({exc})", True)
            return
        if (combo := self.combos.get(name)) is not None:
            combo.setToolTip(POLICY_WORDS[policy][1])
        self.tools = [
            t.model_copy(update={"policy": policy}) if t.name == name else t for t in self.tools
        ]
        self._say(f"{name}: {POLICY_WORDS[policy][0].lower()} — the next call uses it.")
        self.policy_saved.emit(name, policy)

    def _say(self, text: str, error: bool = False) -> None:
        self.result_label.setText(text)
        repolish(self.result_label, "state", "error" if error else "ok")
