"""The pinned Qt binding must not leak references: PySide6 6.12.0 on Python 3.11 took
one reference off ``None`` on every void Qt call, and a long chat crashed the window
("deallocating None") after some tens of thousands of streamed tokens."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_void_qt_calls_leave_none_refcount_alone(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i))
        label.setVisible(False)
    # Other code may take or drop a few references meanwhile; a leak is one per call.
    assert abs(sys.getrefcount(None) - before) < 100
