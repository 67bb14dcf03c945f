"""Search conversations by title and content (what the user typed and what was said).

Plain case-insensitive substring matching over the durable history: a local app
holds tens to hundreds of conversations, and their views are fetched anyway for
the list, so an index would cost more than it saves.
"""

from __future__ import annotations

from backend.workflows.conversation_types import ConversationView


def _normalize(text: str) -> str:
    return " ".join(text.casefold().split())


def matches(view: ConversationView, query: str) -> bool:
    """Whether every word of ``query`` appears in the title or in some message."""
    words = _normalize(query).split()
    if not words:
        return True
    haystack = _normalize(
        "\n".join([view.title, *(f"{t.user_text}\n{t.reply}" for t in view.turns)])
    )
    return all(word in haystack for word in words)
