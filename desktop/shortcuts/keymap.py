"""The window's keyboard shortcuts: one table, so the menus, the actions and the
shortcuts sheet can never disagree.

Keys are written in Qt's portable form (``QKeySequence(..., PortableText)``): "Ctrl"
shows as ⌘ on macOS.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str  # the name the window's action is looked up by
    keys: tuple[str, ...]  # the first is the one menus show
    description: str
    group: str


CONVERSATIONS, MESSAGES, VIEW, APP = "Conversations", "Messages", "View", "DuraChat"

SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("new_conversation", ("Ctrl+N",), "New conversation", CONVERSATIONS),
    Shortcut("search", ("Ctrl+K",), "Search conversations", CONVERSATIONS),
    Shortcut("next_conversation", ("Ctrl+Tab",), "Next conversation", CONVERSATIONS),
    Shortcut("previous_conversation", ("Ctrl+Shift+Tab",), "Previous conversation", CONVERSATIONS),
    Shortcut("rename", ("F2",), "Rename the conversation", CONVERSATIONS),
    Shortcut("export", ("Ctrl+Shift+E",), "Export the conversation", CONVERSATIONS),
    Shortcut("focus_composer", ("Ctrl+L",), "Write a message", MESSAGES),
    Shortcut("send", ("Return",), "Send the message", MESSAGES),
    Shortcut("new_line", ("Shift+Return",), "New line in the message", MESSAGES),
    Shortcut("stop", ("Esc",), "Stop the reply", MESSAGES),
    Shortcut("copy_last_reply", ("Ctrl+Shift+C",), "Copy the last reply", MESSAGES),
    Shortcut("retry_last", ("Ctrl+Shift+R",), "Retry the last reply", MESSAGES),
    Shortcut("tool_panel", ("Ctrl+T",), "Show or hide tool calls", VIEW),
    Shortcut("text_larger", ("Ctrl++", "Ctrl+="), "Larger text", VIEW),
    Shortcut("text_smaller", ("Ctrl+-",), "Smaller text", VIEW),
    Shortcut("text_reset", ("Ctrl+0",), "Text size back to normal", VIEW),
    Shortcut("settings", ("Ctrl+,",), "Settings", APP),
    Shortcut("shortcuts", ("Ctrl+/",), "Keyboard shortcuts", APP),
    Shortcut("quit", ("Ctrl+Q",), "Quit", APP),
)

BY_ACTION: dict[str, Shortcut] = {s.action: s for s in SHORTCUTS}


def groups() -> dict[str, list[Shortcut]]:
    """The shortcuts by group, in the table's order."""
    result: dict[str, list[Shortcut]] = {}
    for shortcut in SHORTCUTS:
        result.setdefault(shortcut.group, []).append(shortcut)
    return result
