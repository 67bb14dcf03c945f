"""The tool panel's details pane: one tool call laid out — header with its status chip,
a key-value grid of when and how often, arguments and result as code blocks, and the
error in a danger box.

``toPlainText()`` says the same in plain words (``describe``), for screen readers,
copying the whole call, and tests.
"""

from __future__ import annotations

import json
from datetime import datetime

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontDatabase, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.icon_widgets import CopyButton, IconLabel
from desktop.chat.tool_card import duration_text, source_text
from desktop.chat.tool_panel_rows import CHIP_WORDS
from desktop.chat.transcript_model import ToolCallItem
from desktop.style.tokens import SPACING

# Past this many characters a block shows the start and says how much is left out: a
# tool may return megabytes, and laying all of it out would freeze the window.
MAX_SHOWN = 100_000
# Text longer than this is shown as it came, not parsed and re-indented as JSON.
MAX_PRETTY = 2_000_000
CODE_LINES = 16  # a code block grows to this many lines, then scrolls inside itself


def pretty(text: str | None) -> str:
    if text is None:
        return ""
    if len(text) > MAX_PRETTY:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return text


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"


def when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3] if ts else "—"


def describe(call: ToolCallItem) -> str:
    lines = [
        f"{call.name}  [{CHIP_WORDS.get(call.status, call.status)}]",
        f"call id:  {call.call_id}",
        f"from:     {source_text(call.server)}",
        f"started:  {when(call.started_at)}",
        f"ended:    {when(call.ended_at)}",
        "duration: " + (f"{call.duration_ms:.0f} ms" if call.duration_ms is not None else "—"),
        f"attempts: {call.attempts}",
        "",
        "Arguments:",
        pretty(call.arguments),
        "",
        "Result:",
        pretty(call.output) if call.output is not None else "—",
    ]
    if call.error:
        lines += ["", "Error:", call.error]
    return "\n".join(lines)


def repolish(widget: QWidget, name: str, value: str) -> None:
    """Set a property the style sheet selects on, and re-apply the sheet if it changed."""
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class ElidedLabel(QLabel):
    """One line that ends in "…" when narrower than its text, instead of widening the
    pane (tool names can be long identifiers with nowhere to wrap)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full = text
        self.setToolTip(text)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, self.width())
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the style sheet's size came in
            self._elide()


class CodeView(QPlainTextEdit):
    """A read-only, selectable code block: monospace on the code background, as tall as
    its text up to ``CODE_LINES`` lines, then scrolling (both ways: no wrapping, so JSON
    keeps its shape)."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widest = 0  # the longest line, in characters (monospace: a width)
        self.setObjectName("toolCode")
        self.setAccessibleName(accessible_name)
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def show_text(self, text: str) -> None:
        shown = cut(text)
        if shown == self.toPlainText():
            return  # the same call refreshed: keep the reader's selection and scroll
        self.setPlainText(shown)
        self.widest = max(map(len, shown.splitlines()), default=0)
        self._fit()

    def _fit(self) -> None:
        # Without wrapping every block is one line, so the height is cheap to know.
        lines = min(max(self.blockCount(), 1), CODE_LINES)
        metrics = self.fontMetrics()
        margins = self.contentsMargins()  # the style sheet's border and padding
        height = (
            lines * metrics.lineSpacing()
            + int(self.document().documentMargin() * 2)
            + margins.top()
            + margins.bottom()
            + SPACING.xs
        )
        # All of it shows: no scroll bar (QPlainTextEdit would offer one for a last line).
        fits = self.blockCount() <= CODE_LINES
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        # Room for the horizontal scroll bar only when a line is wider than the block.
        if self.widest * metrics.horizontalAdvance("0") > self.viewport().width():
            height += self.horizontalScrollBar().sizeHint().height()
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # The style sheet's font size (the user's text size) arrives after the text.
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()


class Section(QWidget):
    """A caption ("Arguments") with a Copy button, over a code block."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(title)
        self.caption.setObjectName("toolSection")
        self.code = CodeView(title)
        self.copy = CopyButton(self.code.toPlainText, f"Copy {title.lower()}", f"Copy {title}")
        self.empty = QLabel("—")
        self.empty.setObjectName("toolMetaValue")
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.caption)
        head.addStretch(1)
        head.addWidget(self.copy)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(SPACING.xs)
        column.addLayout(head)
        column.addWidget(self.code)
        column.addWidget(self.empty)

    def show_text(self, text: str | None, missing: str = "—") -> None:
        has_text = bool(text)
        self.code.setVisible(has_text)
        self.copy.setVisible(has_text)
        self.empty.setVisible(not has_text)
        self.empty.setText(missing)
        if has_text:
            self.code.show_text(text or "")


class ToolCallDetails(QScrollArea):
    """One tool call in full, or nothing (``show_call(None)``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolDetails")
        self.setAccessibleName("Tool call details")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.call: ToolCallItem | None = None
        page = QWidget()
        page.setObjectName("toolDetailsPage")

        self.name_label = ElidedLabel()
        self.name_label.setObjectName("toolPanelName")
        self.chip = QLabel()
        self.chip.setObjectName("toolChip")
        header = QHBoxLayout()
        header.setSpacing(SPACING.sm)
        header.addWidget(IconLabel("wrench", "text_muted", 16))
        header.addWidget(self.name_label, 1)
        header.addWidget(self.chip)

        grid = QGridLayout()
        grid.setHorizontalSpacing(SPACING.md)
        grid.setVerticalSpacing(SPACING.xxs)
        grid.setColumnStretch(1, 1)
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(("call id", "from", "started", "ended", "duration", "attempts")):
            label = QLabel(key)
            label.setObjectName("toolMetaKey")
            value = QLabel()
            value.setObjectName("toolMetaValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(label, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value

        self.error_box = QFrame()
        self.error_box.setObjectName("toolErrorBox")
        self.error_label = QLabel()
        self.error_label.setObjectName("toolErrorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        error_row = QHBoxLayout(self.error_box)
        error_row.setContentsMargins(SPACING.md, SPACING.sm, SPACING.md, SPACING.sm)
        error_row.setSpacing(SPACING.sm)
        error_row.addWidget(IconLabel("triangle-alert", "danger", 16), 0, Qt.AlignmentFlag.AlignTop)
        error_row.addWidget(self.error_label, 1)

        self.arguments = Section("Arguments")
        self.result = Section("Result")

        column = QVBoxLayout(page)
        column.setContentsMargins(SPACING.lg, SPACING.md, SPACING.lg, SPACING.lg)
        column.setSpacing(SPACING.md)
        column.addLayout(header)
        column.addLayout(grid)
        column.addWidget(self.error_box)
        column.addWidget(self.arguments)
        column.addWidget(self.result)
        column.addStretch(1)
        self.setWidget(page)
        self.show_call(None)

    def toPlainText(self) -> str:  # the name a QPlainTextEdit reader (and test) calls
        return describe(self.call) if self.call else ""

    def show_call(self, call: ToolCallItem | None) -> None:
        self.call = call
        self.widget().setVisible(call is not None)
        if call is None:
            return
        self.name_label.set_full_text(call.name)
        self.chip.setText(CHIP_WORDS.get(call.status, call.status))
        repolish(self.chip, "state", call.status)
        duration = call.duration_ms
        for key, text in (
            ("call id", call.call_id),
            ("from", f"MCP server {call.server}" if call.server else "built-in"),
            ("started", when(call.started_at)),
            ("ended", when(call.ended_at)),
            ("duration", duration_text(duration) if duration is not None else "—"),
            ("attempts", str(call.attempts)),
        ):
            self.values[key].setText(text)
        self.error_box.setVisible(bool(call.error))
        self.error_label.setText(call.error or "")
        self.arguments.show_text(pretty(call.arguments), "No arguments")
        missing = {
            "running": "Running…",
            "waiting": "Waiting for your approval: not run yet",
            "denied": "Denied: not run",
        }.get(call.status, "No result")
        self.result.show_text(pretty(call.output) if call.output is not None else None, missing)
