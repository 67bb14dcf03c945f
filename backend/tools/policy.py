"""Whether a tool runs when the model calls it: ``allow``, ``ask`` (the turn waits for
the user's decision) or ``deny`` (not offered to the model at all).

The user's choices are in settings (``tool_policies``, by the name ``durachat
tools`` shows); a tool without one gets its default: the calculator and the clock
run, the file tools ask, and an MCP tool asks unless its server says it only
reads (``readOnlyHint``).
"""

from __future__ import annotations

from typing import Literal

Policy = Literal["allow", "ask", "deny"]
POLICIES: tuple[Policy, ...] = ("allow", "ask", "deny")

BUILTIN_DEFAULTS: dict[str, Policy] = {
    "calculator": "allow",
    "current_time": "allow",
    "list_files": "ask",
    "read_file": "ask",
}


def default_policy(name: str, *, builtin: bool, read_only: bool) -> Policy:
    if builtin:
        return BUILTIN_DEFAULTS.get(name, "ask")
    return "allow" if read_only else "ask"
