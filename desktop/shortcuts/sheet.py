"""The shortcuts sheet (Ctrl+/): every shortcut of the keymap, by group."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.shortcuts.keymap import groups


def shown_keys(keys: tuple[str, ...]) -> str:
    """How this platform writes the keys (⌘ on macOS), alternatives joined by "or"."""
    native = QKeySequence.SequenceFormat.NativeText
    portable = QKeySequence.SequenceFormat.PortableText
    return "  or  ".join(QKeySequence.fromString(k, portable).toString(native) for k in keys)


class ShortcutsSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        row = 0
        self.rows: dict[str, tuple[QLabel, QLabel]] = {}
        for group, shortcuts in groups().items():
            heading = QLabel(group)
            heading.setObjectName("shortcutsGroup")
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            grid.addWidget(heading, row, 0, 1, 2)
            row += 1
            for shortcut in shortcuts:
                what = QLabel(shortcut.description)
                keys = QLabel(shown_keys(shortcut.keys))
                keys.setObjectName("shortcutKeys")
                keys.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                keys.setAccessibleName(f"{shortcut.description}: {keys.text()}")
                grid.addWidget(what, row, 0)
                grid.addWidget(keys, row, 1)
                self.rows[shortcut.action] = (what, keys)
                row += 1
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(440, 560)
