"""``ReplyWatch``: when to tell the user a reply ended, and what the notification says.

A reply that finishes or fails while the window is not the active one is news: the
user looks elsewhere. Two ways to learn it ended: the open conversation's reply is
followed (``ChatSession.turn_settled``); one left generating in another conversation
is seen stopping in the list (``conversations_changed``). A click on the
notification brings the window forward on that conversation.

A tool call that starts waiting for the user's approval (``ChatSession.approval_requested``:
live, or seen in the store while a reply generates elsewhere) is news too, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from backend.client.api import ConversationSummary, read_history
from backend.client.errors import NoSuchConversation
from backend.workflows.conversation_types import PendingApproval
from desktop.notifications.notifier import (
    Notification,
    Notifier,
    approval_notification,
    reply_notification,
)
from desktop.session import ChatSession

NEWS = ("done", "failed")  # a stopped reply was stopped by the user: no news
FIRST_LINES = 2


class ReplyWatch(QObject):
    open_requested = Signal(str)  # a conversation whose notification was clicked

    def __init__(
        self,
        session: ChatSession,
        notifier: Notifier,
        is_active: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.notifier = notifier
        # Whether the user is looking at the window now (injectable for tests).
        self.is_active = is_active
        self._generating: set[str] = set()
        self._told: set[str] = set()  # turn ids already notified: never twice
        self._tasks: set[asyncio.Task[None]] = set()
        session.turn_started.connect(self._on_started)
        session.turn_settled.connect(self._on_settled)
        session.conversations_changed.connect(self._on_listed)
        session.approval_requested.connect(self._on_approval)
        notifier.activated.connect(self.open_requested)

    def _on_started(self, conversation_id: str, _turn_id: str) -> None:
        # Watched from its start: a reply left behind by opening another conversation
        # may end before any list shows it generating.
        self._generating.add(conversation_id)

    def _on_settled(self, conversation_id: str, turn_id: str, status: str) -> None:
        self._generating.discard(conversation_id)
        if status not in NEWS or self.is_active():
            return
        turn = self.session.model.turns.get(turn_id)
        if turn is None or conversation_id != self.session.conversation_id:
            self._tell_from_store(conversation_id)  # let go of meanwhile: the store knows
            return
        text = (turn.error_message or turn.error or "") if status == "failed" else turn.reply
        self._tell(conversation_id, turn_id, status, text)

    def _on_listed(self, summaries: list[ConversationSummary]) -> None:
        """A conversation not open that stopped generating since the last list."""
        now = {s.conversation_id for s in summaries if s.running}
        ended = {
            s.conversation_id
            for s in summaries
            if s.conversation_id in self._generating and not s.running
        }
        # Listed but not generating, or not in this (searched) list: no longer watched.
        self._generating = now | (self._generating - {s.conversation_id for s in summaries})
        if self.is_active():
            return
        for conversation_id in ended - {self.session.conversation_id}:
            self._tell_from_store(conversation_id)

    def _on_approval(self, approval: PendingApproval) -> None:
        if self.is_active() or approval.call_id in self._told:
            return
        self._told.add(approval.call_id)
        title = self.session.title_of(approval.conversation_id)
        self._spawn(
            approval_notification(approval.conversation_id, title, approval.tool, approval.server)
        )

    def _tell_from_store(self, conversation_id: str) -> None:
        try:
            view = read_history(self.session.store, conversation_id, last=1)
        except NoSuchConversation:
            return  # deleted meanwhile: nothing to say
        turn = view.turns[-1] if view.turns else None
        if turn is None or turn.status not in NEWS:
            return
        text = turn.error.message if turn.error is not None else turn.reply
        self._tell(conversation_id, turn.turn_id, turn.status, text)

    def _tell(self, conversation_id: str, turn_id: str, status: str, text: str) -> None:
        if turn_id in self._told:
            return
        self._told.add(turn_id)
        lines = [line for line in text.splitlines() if line.strip()][:FIRST_LINES]
        title = self.session.title_of(conversation_id)
        note = reply_notification(conversation_id, title, status, "\n".join(lines))
        self._spawn(note)

    def _spawn(self, note: Notification) -> None:
        task = asyncio.ensure_future(self.notifier.notify(note))
        self._tasks.add(task)  # held until done: an unreferenced task may be collected
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notifier.close()
