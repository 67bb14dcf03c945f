"""Window actions made from the keymap, so a menu shows the keys the table says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from desktop.shortcuts.keymap import BY_ACTION

PORTABLE = QKeySequence.SequenceFormat.PortableText


def key_sequences(name: str) -> list[QKeySequence]:
    return [QKeySequence.fromString(keys, PORTABLE) for keys in BY_ACTION[name].keys]


def keyed_action(
    parent: QObject, name: str, text: str, slot: Callable[[], Any] | None = None
) -> QAction:
    """An action named ``name`` with the keymap's keys; ``text`` is its menu text."""
    action = QAction(text, parent)
    configure(action, name)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    return action


def configure(action: QAction, name: str) -> None:
    """Give an existing action (a dock's toggle) the keymap's name and keys."""
    action.setObjectName(name)
    action.setShortcuts(key_sequences(name))
    action.setStatusTip(BY_ACTION[name].description)
