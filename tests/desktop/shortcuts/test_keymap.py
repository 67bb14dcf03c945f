"""The keymap is one consistent table, the sheet lists all of it, and text size steps
stay within what the settings accept."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from backend.local.settings import MAX_TEXT_SCALE, MIN_TEXT_SCALE, Settings
from desktop.shortcuts.keymap import BY_ACTION, SHORTCUTS
from desktop.shortcuts.sheet import ShortcutsSheet
from desktop.shortcuts.text_scale import larger, smaller


def test_no_two_actions_share_a_key_and_every_key_parses() -> None:
    seen: dict[str, str] = {}
    for shortcut in SHORTCUTS:
        for keys in shortcut.keys:
            sequence = QKeySequence.fromString(keys, QKeySequence.SequenceFormat.PortableText)
            assert not sequence.isEmpty(), keys
            text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            assert text not in seen, f"{keys} is both {seen.get(text)} and {shortcut.action}"
            seen[text] = shortcut.action
    assert len(BY_ACTION) == len(SHORTCUTS)


def test_the_sheet_lists_every_shortcut_with_its_keys(qtbot: QtBot) -> None:
    sheet = ShortcutsSheet()
    qtbot.addWidget(sheet)
    assert set(sheet.rows) == set(BY_ACTION)
    what, keys = sheet.rows["shortcuts"]
    assert what.text() == "Keyboard shortcuts"
    assert keys.text() == QKeySequence("Ctrl+/").toString(QKeySequence.SequenceFormat.NativeText)
    what, keys = sheet.rows["text_larger"]
    assert " or " in keys.text()  # both Ctrl++ and Ctrl+= are shown
    assert keys.accessibleName() == f"Larger text: {keys.text()}"


def test_text_size_steps_up_and_down_within_what_settings_accept() -> None:
    scale = Settings().text_scale
    assert scale == 100
    ups = []
    for _ in range(20):
        scale = larger(scale)
        ups.append(scale)
    assert ups[0] == 110 and ups[-1] == MAX_TEXT_SCALE
    assert smaller(100) == 90 and smaller(MIN_TEXT_SCALE) == MIN_TEXT_SCALE
    assert smaller(larger(100)) == 100
    for step in {larger(s) for s in range(MIN_TEXT_SCALE, MAX_TEXT_SCALE + 1)}:
        assert Settings(text_scale=step).text_scale == step  # every step is a valid setting
