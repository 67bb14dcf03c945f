"""The words under a turn: its status line, and a failed turn's error as a user reads it."""

from __future__ import annotations

from desktop.chat.transcript_model import TurnItem

QUEUED_BEHIND = "queued — will be sent after the current reply"
SENDING = "sending…"
WAITING = "waiting for your decision on a tool call"
HELD = "held — the backend is not reachable right now; it will be sent when it is back"

# What the user can do about each kind of failure (kinds: backend.workflows.turn_errors);
# rate_limited has none here: the backend's message already says what to do.
_HINTS = {
    "auth": "Check the API key in Settings, then retry.",
    "provider_error": "The provider had a problem on its side: retry in a moment.",
    "configuration": "Check the provider, base URL and model in Settings.",
    "bad_request": "The provider refused this request as sent.",
    "unreachable": "Check the network, the base URL, or that the local server is running.",
    "timeout": "The model took too long to answer: retry.",
}


def status_text(turn: TurnItem, behind_another: bool) -> str:
    """``behind_another``: an earlier turn of the conversation has not finished yet."""
    if turn.status == "queued":
        return QUEUED_BEHIND if behind_another else SENDING
    if turn.status == "running" and any(c.waiting for c in turn.tool_calls.values()):
        return WAITING
    return {
        "held": HELD,
        "running": "generating…",
        "stopped": "stopped",
        "failed": "failed",
    }.get(turn.status, "")


def error_text(kind: str | None, message: str | None) -> str:
    """One readable paragraph: what went wrong (capitalised), then what to do."""
    detail = (message or "").strip() or "The reply failed."
    detail = detail[0].upper() + detail[1:]
    if kind and kind != "error":
        detail += f" ({kind.replace('_', ' ')})"
    hint = _HINTS.get(kind or "")
    return f"{detail}\n{hint}" if hint else detail
