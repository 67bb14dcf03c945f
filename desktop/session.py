"""The chat session: the conversations, the open one, sending and following replies.

No widgets: the window shows what the session's signals say and calls its methods.
It reads the conversation store itself (the list and every transcript work with no
backend), keeps what the user sends in the outbox first, and talks to the backend
through the client once ``attach`` gives it one. Every backend call runs as an
asyncio task on the Qt event loop (qasync): no method here waits on the network.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from backend.client.api import (
    ConversationSummary,
    DuraChatClient,
    check_message,
    list_summaries,
    new_conversation_id,
    new_message_id,
    read_history,
)
from backend.client.errors import (
    ApprovalNotPending,
    BackendUnreachable,
    DuraChatError,
    MessageRejected,
    NoSuchConversation,
    StoreError,
)
from backend.client.outbox import Delivery, Outbox, deliver_held
from backend.client.store import ConversationStore
from backend.local.paths import DataDir
from backend.stream.events import StreamEvent
from backend.workflows.conversation_types import ConversationView, PendingApproval
from desktop.chat.transcript_model import TranscriptModel
from desktop.jobs import Jobs

log = logging.getLogger(__name__)

FINISHED = ("done", "failed", "stopped")
# How a turn's last live event says how it ended (when no history view follows it).
_ENDED_BY = {"turn_done": "done", "turn_failed": "failed", "turn_cancelled": "stopped"}
DELIVER_RETRY_MS = 1000  # held messages are tried again this often while any are held
# Replies generating in conversations that are not open end unseen: the list is
# read again this often while one does, so its "generating" dot goes when it ends.
LIST_WATCH_MS = 2000
HELD_NOTE = "they will be sent when it is back"
# Turns read from the store at a time: a conversation opens with its newest page (more
# than a tall window shows), and older pages come as the user scrolls up to them.
PAGE_TURNS = 30
# A decision the backend has not taken in this long is said to have failed (the card
# can be used again; a decision taken late after all settles the call anyway).
DECIDE_TIMEOUT_S = 30.0
APPROVAL_EVENTS = ("approval_requested", "approval_settled")


class ChatSession(QObject):
    status_changed = Signal(str)  # a line for the status bar
    conversations_changed = Signal(list)  # list[ConversationSummary], newest first
    conversation_opened = Signal(object)  # the open conversation's id, or None (a new one)
    # The session follows a turn's reply from now on (the backend has its message).
    turn_started = Signal(str, str)  # conversation id, turn id
    # A followed turn ended: "done", "failed" or "stopped". Every turn_started is
    # settled unless its follower was let go first (another conversation opened, the
    # conversation deleted, the session shut down).
    turn_settled = Signal(str, str, str)  # conversation id, turn id, status
    message_returned = Signal(str, str)  # a message not sent, and why: back to the composer
    backend_ready = Signal()  # attached, the list read, the last conversation reopened
    # Every tool call waiting for the user's decision, in any conversation, oldest first
    # (list[PendingApproval]); emitted when that changes.
    approvals_changed = Signal(list)
    # A call began waiting since the session started: live, or seen in the store as a
    # reply generates elsewhere (the calls already waiting at start are not news).
    approval_requested = Signal(object)  # PendingApproval
    decision_done = Signal(str, str)  # call id, and "" once taken, else why it was not
    shut_down = Signal()  # every task ended and the store closed

    def __init__(self, data: DataDir, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data = data
        # The store answers the list and every transcript, with or without a backend;
        # held messages are rows of it too.
        self.store = ConversationStore.in_data_dir(data.ensure().root)
        self.outbox = Outbox(self.store, legacy_file=data.outbox_file)
        self.model = TranscriptModel(self)
        self.model.older_wanted.connect(self.load_older)
        self.client: DuraChatClient | None = None
        self.conversation_id: str | None = None
        self.conversations: list[ConversationSummary] = []
        self.search = ""
        self._jobs = Jobs(self._task_failed)
        self._follows: dict[str, asyncio.Task[None]] = {}  # turn id -> its follower
        self._deliver_lock = asyncio.Lock()
        self._deliver_again = False
        self._user_navigated = False  # once true, start-up no longer reopens the last one
        self._held_said = False  # the status line says messages are held
        self.closed = False
        self._deliver_timer = self._timer(DELIVER_RETRY_MS, self._deliver_soon)
        self._list_timer = self._timer(LIST_WATCH_MS, self.refresh_soon)
        self._older_wanted: tuple[str, str] | None = None  # conversation id, before turn
        self._older_timer = self._timer(0, self._load_older)
        self.approvals: dict[str, PendingApproval] = {}  # by call id, as the store has them
        self._approvals_read = False
        self._decided: set[str] = set()  # decisions taken, their settling still to come

    def _task_failed(self, exc: BaseException) -> None:
        self.status_changed.emit(f"Error: {str(exc) or type(exc).__name__}")

    def _timer(self, ms: int, slot: Any) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # -- the backend ------------------------------------------------------------------

    def start(self) -> None:
        """Show the conversations as the store holds them, before any backend is up."""
        self._read_list()

    def attach(self, client: DuraChatClient) -> None:
        """The backend is up: deliver what is held, reopen where the user was."""
        if self._jobs.closing:
            return  # shutting down: nothing more is sent or followed
        self.client = client
        self._jobs.spawn(self._on_ready(), "ready")

    async def _on_ready(self) -> None:
        self._deliver_soon()  # what an earlier run could not send yet
        await self.refresh_conversations()
        if self.conversation_id is not None:  # opened while the backend started
            self._jobs.spawn(self._load(self.conversation_id), "load")
        # Resume where the user was: the conversation they last wrote in while it could
        # not be sent, else the most recent one, re-attached to its reply if one is
        # still being generated (unless the user already moved). A conversation the
        # backend cannot answer for yet (its worker just started) opens all the same,
        # and shows once it can.
        held = self.outbox.pending()
        ids = [s.conversation_id for s in self.conversations]
        resume = held[-1].conversation_id if held else (ids[0] if ids else None)
        if not self._user_navigated and resume and not self.search:
            self.open_conversation(resume, by_user=False)
        self.backend_ready.emit()

    # -- the list ---------------------------------------------------------------------

    def _read_list(self) -> None:
        self.conversations = list_summaries(self.store, self.search)
        self.conversations_changed.emit(self.conversations)
        self._read_approvals()
        # The open conversation's reply is followed, and its follower reads the list
        # when it ends; others are watched (each read is cheap, but not per token).
        unseen = any(
            s.running and s.conversation_id != self.conversation_id for s in self.conversations
        )
        if unseen and not self._list_timer.isActive():
            self._list_timer.start()

    async def refresh_conversations(self) -> None:
        self._read_list()

    # -- tool approvals ---------------------------------------------------------------

    def _read_approvals(self) -> None:
        """The calls waiting for the user, as the store has them (a cheap read): the
        open conversation's show their cards, the list its marks."""
        try:
            pending = self.store.pending_approvals()
        except StoreError as exc:
            log.warning("pending approvals unreadable: %s", exc)
            return
        now = {p.call_id: p for p in pending}
        changed = list(now) != list(self.approvals)
        news = [p for p in pending if p.call_id not in self.approvals and self._approvals_read]
        self._approvals_read = True
        if changed:
            self.approvals = now
            self._decided &= set(now)  # settled: no longer kept back
        self._show_approvals()
        if changed:
            self.approvals_changed.emit(pending)
        for approval in news:
            self.approval_requested.emit(approval)

    def _show_approvals(self) -> None:
        for approval in self.approvals.values():
            if approval.call_id not in self._decided:
                self.model.add_approval(approval)

    def decide(self, call_id: str, allow: bool, always: bool = False, reason: str = "") -> None:
        """Allow (``always``: this tool from now on) or deny a call that waits; the
        outcome comes as ``decision_done``."""
        self._jobs.spawn(self._decide(call_id, allow, always, reason.strip() or None))

    async def _decide(self, call_id: str, allow: bool, always: bool, reason: str | None) -> None:
        client = self.client
        if client is None:
            self.decision_done.emit(call_id, "Not sent: the backend is not connected yet")
            return
        try:
            await asyncio.wait_for(
                client.decide(call_id, allow=allow, always=always, reason=reason),
                DECIDE_TIMEOUT_S,
            )
        except ApprovalNotPending as exc:
            self.decision_done.emit(call_id, f"This call no longer waits for a decision: {exc}")
            self._read_approvals()
            return
        except TimeoutError:
            self.decision_done.emit(call_id, "Not sent: the backend did not answer; try again")
            return
        except DuraChatError as exc:
            self.decision_done.emit(call_id, f"Not sent: {exc}")
            return
        except BaseException as exc:
            # A bug, or the session closing: the card must not stay busy; the task's
            # failure is still reported as every task's is (see _task_failed).
            self.decision_done.emit(call_id, f"Not sent: {str(exc) or type(exc).__name__}")
            raise
        # Taken: the workflow goes on. Its settling (the store, the live event) follows;
        # till then the store still lists the call, not to be shown waiting again.
        self._decided.add(call_id)
        self.model.settle_approval(call_id, allow, reason)
        self.model.flush()
        self.decision_done.emit(call_id, "")

    def refresh_soon(self) -> None:
        self._jobs.spawn(self.refresh_conversations(), "refresh")

    def set_search(self, query: str) -> None:
        """Only the conversations whose title or messages hold every word of ``query``."""
        self.search = query
        self.refresh_soon()

    def title_of(self, conversation_id: str) -> str:
        record = self.store.get_conversation(conversation_id)
        return record.title if record is not None else ""

    def rename(self, conversation_id: str, title: str) -> None:
        self._jobs.spawn(self._rename(conversation_id, title))

    async def _rename(self, conversation_id: str, title: str) -> None:
        if self.client is None:
            self.status_changed.emit("Not renamed: the backend is not connected yet")
            return
        try:
            await self.client.rename(conversation_id, title)
        except (MessageRejected, NoSuchConversation) as exc:
            self.status_changed.emit(f"Not renamed: {exc}")
        await self.refresh_conversations()

    def delete(self, conversation_id: str) -> None:
        self._jobs.spawn(self._delete(conversation_id))

    async def _delete(self, conversation_id: str) -> None:
        if self.client is None:
            self.status_changed.emit("Not deleted: the backend is not connected yet")
            return
        if conversation_id == self.conversation_id:
            self.new_conversation()
        # Under the delivery lock: a message of this conversation being sent right now
        # would otherwise start the deleted conversation again.
        async with self._deliver_lock:
            for message in self.outbox.pending():
                if message.conversation_id == conversation_id:
                    self.outbox.release(message.message_id)  # or it would bring it back
            try:
                await self.client.delete(conversation_id)
            except BackendUnreachable as exc:
                self.status_changed.emit(f"Not deleted: {exc}")
                return
        self.status_changed.emit("Conversation deleted")
        await self.refresh_conversations()

    # -- the open conversation --------------------------------------------------------

    def new_conversation(self) -> None:
        self._user_navigated = True
        self._stop_following()
        self._jobs.cancel("load")
        self.conversation_id = None
        self.model.clear(None)
        self.conversation_opened.emit(None)

    def open_conversation(self, conversation_id: str, by_user: bool = True) -> None:
        """Show the conversation at once from the store; its reply, if one is being
        generated, is followed live. Opening another one while it loads cancels that."""
        self._user_navigated |= by_user
        if conversation_id == self.conversation_id:
            return
        self._stop_following()
        self.conversation_id = conversation_id
        self.model.clear(conversation_id)
        self._show_held(conversation_id)  # at once: the history may take a moment
        self.conversation_opened.emit(conversation_id)
        self._jobs.spawn(self._load(conversation_id), "load")

    def _show_held(self, conversation_id: str) -> None:
        for message in self.outbox.pending():
            if message.conversation_id == conversation_id:
                self.model.add_pending(message.message_id, message.text)

    async def _load(self, conversation_id: str) -> None:
        """Show the conversation as the store holds it (no backend needed), then follow
        its reply if one is being generated."""
        try:
            view = read_history(self.store, conversation_id, last=PAGE_TURNS)
        except NoSuchConversation:
            if conversation_id == self.conversation_id:
                self.status_changed.emit("This conversation no longer exists.")
            return
        if conversation_id != self.conversation_id:
            return
        self.model.load(view)
        self._show_held(conversation_id)
        self._read_approvals()  # a wait begun before the window opened shows its card
        self._follow_running(view)

    def load_older(self, before: str) -> None:
        """Read the page of turns before the turn ``before`` into the open conversation
        (the transcript asks as the user scrolls up to it), once control returns: a
        Qt timer, not a task, as a read of the store takes no waiting, and the screen
        can say it is loading meanwhile. A newer request replaces one not yet read."""
        if self.conversation_id is not None:
            self._older_wanted = (self.conversation_id, before)
            self._older_timer.start()

    def _load_older(self) -> None:
        wanted, self._older_wanted = self._older_wanted, None
        if wanted is None or wanted[0] != self.conversation_id or self.closed:
            return  # another conversation opened meanwhile: the model was cleared
        conversation_id, before = wanted
        try:
            view = read_history(self.store, conversation_id, last=PAGE_TURNS, before=before)
        except NoSuchConversation:
            self.model.older_failed()  # gone meanwhile: nothing more to ask for
            return
        self.model.prepend_older(view, before)

    # -- following replies ------------------------------------------------------------

    def _follow_running(self, view: ConversationView) -> None:
        """Re-attach to the reply still being generated, from the start of its events,
        and to the replies queued behind it (once attached: see _on_ready; held
        messages are followed once delivered)."""
        if self.client is None:
            return
        held = {m.message_id for m in self.outbox.pending()}
        for turn in view.turns:
            if (
                turn.status in ("queued", "running")
                and turn.turn_id not in self._follows
                and turn.turn_id not in held
            ):
                self.model.restart_live(turn.turn_id)
                self._follow(view.conversation_id, turn.turn_id, "0-0")

    def _stop_following(self) -> None:
        if self._follows and not self._jobs.closing and not self._list_timer.isActive():
            # A reply left generating: the list watches it now, for its "generating" dot.
            self._list_timer.start()
        for task in self._follows.values():
            task.cancel()
        self._follows.clear()

    def _follow(self, conversation_id: str, turn_id: str, after: str) -> None:
        # One follower per turn: two would show every token twice. Not a named job:
        # followers are let go by conversation (see _stop_following).
        if turn_id in self._follows or self._jobs.closing or self.client is None:
            return
        task = self._jobs.spawn(self._follow_turn(self.client, conversation_id, turn_id, after))
        if task is not None:
            self._follows[turn_id] = task
            self.turn_started.emit(conversation_id, turn_id)

    async def _follow_turn(
        self, client: DuraChatClient, conversation_id: str, turn_id: str, after: str
    ) -> None:
        final: ConversationView | None = None
        last: StreamEvent | None = None
        try:
            async for item in client.follow_turn(conversation_id, turn_id, after):
                if isinstance(item, ConversationView):
                    final = item
                    self.model.apply_view(item)
                    self.model.flush()
                    if item.conversation_id == self.conversation_id:
                        self._follow_running(item)
                else:
                    last = item
                    self.model.apply_event(item)
                    if item.type in APPROVAL_EVENTS:
                        # The store has it already (it is written before it is told).
                        self._read_approvals()
        except NoSuchConversation:
            return  # the conversation was deleted meanwhile: nothing left to follow
        finally:
            if self._follows.get(turn_id) is asyncio.current_task():
                del self._follows[turn_id]
        status = _ended_as(turn_id, final, last)
        if status is not None:
            self.turn_settled.emit(conversation_id, turn_id, status)
        self.refresh_soon()  # its "generating" dot goes

    # -- sending ----------------------------------------------------------------------

    def send_message(self, text: str) -> None:
        """Keep the message in the outbox first, then deliver: nothing the user sent is
        lost if the backend is down, restarting, not attached yet, or the window goes
        meanwhile. A message that cannot be kept comes back (message_returned)."""
        try:
            check_message(text)
        except MessageRejected as exc:
            self.message_returned.emit(text, f"Not sent: {exc}")
            return
        if self.conversation_id is None:
            self.conversation_id = new_conversation_id()
            self.model.clear(self.conversation_id)
            self.conversation_opened.emit(self.conversation_id)
        message_id = new_message_id()
        try:
            self.outbox.hold(self.conversation_id, message_id, text)
        except StoreError as exc:
            self.message_returned.emit(
                text, f"Not sent: the message could not be kept on disk ({exc})"
            )
            return
        self.model.add_pending(message_id, text)
        if self.client is None:
            self.model.mark_held(message_id)  # delivered once a backend is attached
            return
        self._deliver_soon()

    def _deliver_soon(self) -> None:
        # One delivery at a time; a call while one runs makes it go round once more.
        if self._jobs.running("deliver"):
            self._deliver_again = True
        else:
            self._jobs.spawn(self._deliver(), "deliver")

    async def _deliver(self) -> None:
        """Send the held messages, oldest first, under the lock (so they reach their
        conversation in the order they were written, and none of a conversation
        being deleted goes)."""
        while self.client is not None:
            self._deliver_again = False
            try:
                async with self._deliver_lock:
                    delivery = await deliver_held(self.outbox, self.client)
            finally:
                if not self._jobs.closing and self.outbox.pending():
                    self._deliver_timer.start()  # whatever happened, try again shortly
            self._show_delivery(delivery)
            if delivery.sent:
                await self.refresh_conversations()
            if not self._deliver_again:
                return

    def _show_delivery(self, delivery: Delivery) -> None:
        for sent in delivery.sent:
            self.model.mark_sent(sent.message_id)
            if sent.conversation_id == self.conversation_id:
                self._follow(sent.conversation_id, sent.message_id, sent.stream_after)
        for message, why in delivery.refused:
            self.model.mark_refused(message.message_id, why)
            if message.conversation_id == self.conversation_id:
                self.message_returned.emit(message.text, f"Not sent: {why}")
        if delivery.stalled:
            held = self.outbox.pending()
            for message in held:
                if message.conversation_id == self.conversation_id:
                    self.model.mark_held(message.message_id)
            self._held_said = True
            self.status_changed.emit(
                f"{len(held)} message(s) held: the backend is not reachable; {HELD_NOTE}"
            )
        elif delivery.sent and self._held_said:
            self._held_said = False
            self.status_changed.emit("Held messages sent")

    def stop_turn(self) -> None:
        """Stop the reply being generated in the open conversation."""
        if self.client is not None and self.conversation_id is not None:
            self._jobs.spawn(
                self._stop(self.client, self.conversation_id, self.model.running_turn_id), "stop"
            )

    async def _stop(
        self, client: DuraChatClient, conversation_id: str, turn_id: str | None
    ) -> None:
        try:
            await client.stop(conversation_id, turn_id)
        except BackendUnreachable as exc:
            self.status_changed.emit(f"Not stopped: {exc}")

    # -- the end ----------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop following and every task, let go of the client, close the store."""
        if self.closed:
            return
        await self._jobs.cancel_all()
        self._finish()

    def close(self) -> None:
        """Close at once, for a session never attached to a backend (nothing of it is
        in flight but reading the store): its tasks are cancelled, not awaited."""
        if self.closed:
            return
        self._jobs.stop_all()
        self._finish()

    def _finish(self) -> None:
        for timer in (self._deliver_timer, self._list_timer, self._older_timer):
            timer.stop()
        self._follows.clear()
        self.client = None  # whoever made it closes it (the link)
        self.store.close()
        self.closed = True
        self.shut_down.emit()


def _ended_as(turn_id: str, final: ConversationView | None, last: StreamEvent | None) -> str | None:
    """How the followed turn ended: as the history has it, else as its last event said."""
    turn = next((t for t in final.turns if t.turn_id == turn_id), None) if final else None
    if turn is not None and turn.status in FINISHED:
        return turn.status
    if last is not None and last.turn_id == turn_id:
        return _ENDED_BY.get(last.type)
    return None
