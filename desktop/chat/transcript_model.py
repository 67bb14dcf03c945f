"""One conversation's turns, observable and free of widgets.

Built from the durable ``ConversationView``, then kept current by the live
events of the turns being generated. A long conversation is read a page at a time:
the model holds its newest turns and, when asked (``request_older``), the pages
before them, put in front as they arrive (``older_loaded``). Changes are collected per turn and
announced at most once a frame (``turns_changed``), so a fast stream never
floods the UI with repaints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from backend.stream.events import StreamEvent
from backend.stream.turn_text import TurnText
from backend.workflows.conversation_types import ConversationView, PendingApproval, Turn

FRAME_MS = 16  # ~60 Hz
# A call still waiting for the user when its turn ended (Stop cancels the wait), as
# the workflow records it.
NOT_DECIDED = "stopped"


def denied_error(reason: str | None) -> str:
    """What a denied call's record says (as the workflow writes it)."""
    reason = " ".join((reason or "").split())
    return "denied by the user" + (f": {reason}" if reason else "")


@dataclass
class ToolCallItem:
    call_id: str
    name: str
    arguments: str
    # waiting (for the user's approval) / running / done / error / denied (by the user)
    status: str = "running"
    output: str | None = None
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration_ms: float | None = None
    attempts: int = 0
    server: str | None = None  # the MCP server it runs on; None for a built-in tool

    @property
    def waiting(self) -> bool:
        return self.status == "waiting"


@dataclass
class TurnItem:
    turn_id: str
    user_text: str
    status: str = "queued"  # held / queued / running / done / failed / stopped
    reply: str = ""
    reasoning: str = ""
    tool_calls: dict[str, ToolCallItem] = field(default_factory=dict)
    error: str | None = None  # "kind: message", for logs and tooltips
    error_kind: str | None = None  # auth, rate_limited, provider_error, unreachable, ...
    error_message: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    # The model's context begins at this turn: the turns above it are kept, not sent.
    context_starts_here: bool = False
    live: TurnText = field(default_factory=TurnText)
    # Deltas only fold into ``live``; ``reply`` and ``reasoning`` are rebuilt from it once a
    # frame (``sync_live``), so an event costs O(1) however long the reply already is.
    live_pending: bool = False

    @classmethod
    def from_turn(cls, turn: Turn) -> TurnItem:
        item = cls(turn.turn_id, turn.user_text)
        item.update_from(turn)
        return item

    def update_from(self, turn: Turn) -> None:
        """Take the durable truth for this turn."""
        self.user_text = turn.user_text
        self.status = turn.status
        self.reply = turn.reply
        self.reasoning = turn.reasoning
        self.live_pending = False  # the durable text wins over anything not yet shown
        if turn.error:
            self.set_error(turn.error.kind, turn.error.message)
        else:
            self.error = self.error_kind = self.error_message = None
        self.input_tokens, self.output_tokens = turn.input_tokens, turn.output_tokens
        self.tool_calls = {
            r.call_id: ToolCallItem(
                r.call_id,
                r.name,
                r.arguments,
                r.status,
                r.output,
                r.error,
                r.started_at,
                r.ended_at,
                r.duration_ms,
                r.attempts,
                r.server,
            )
            for r in turn.tool_calls
        }

    def end_waits(self) -> None:
        """The turn is over: a call that still waited for the user never ran."""
        for call in self.tool_calls.values():
            if call.waiting:
                call.status, call.error = "error", NOT_DECIDED

    def set_error(self, kind: str, message: str) -> None:
        self.error_kind, self.error_message = kind, message
        self.error = f"{kind}: {message}"

    def sync_live(self) -> None:
        if self.live_pending:
            self.live_pending = False
            self.reply = self.live.text
            self.reasoning = self.live.reasoning

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "stopped")


class TranscriptModel(QObject):
    reset = Signal()  # a different conversation (or a fresh one): rebuild everything
    turns_changed = Signal(list)  # ids of the turns that changed since the last frame
    tool_calls_changed = Signal()
    older_wanted = Signal(str)  # the oldest loaded turn's id: the page before it is wanted
    older_loaded = Signal(list)  # ids of older turns put before the loaded ones, in order

    def __init__(self, parent: QObject | None = None, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self.conversation_id: str | None = None
        self.title = ""
        self.turns: dict[str, TurnItem] = {}
        # How many of the conversation's turns come before the loaded ones (in the store).
        self.earlier_turns = 0
        self.context_starts_at: str | None = None
        self._older_pending = False
        # Calls whose wait for the user is over: a late read of the store (or a
        # replayed request) does not bring their approval card back.
        self._settled: set[str] = set()
        self._dirty: dict[str, None] = {}
        self._tools_dirty = False
        self.flushes = 0  # how many coalesced updates were announced (for tests)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.flush)

    # -- whole conversations -------------------------------------------------------------

    def clear(self, conversation_id: str | None = None) -> None:
        self.conversation_id = conversation_id
        self.title = ""
        self.turns = {}
        self.earlier_turns = 0
        self.context_starts_at = None
        self._older_pending = False
        self._settled = set()
        self._dirty.clear()
        self.reset.emit()
        self.tool_calls_changed.emit()

    def load(self, view: ConversationView) -> None:
        if view.conversation_id != self.conversation_id:
            self.clear(view.conversation_id)
        self.apply_view(view)

    def apply_view(self, view: ConversationView) -> None:
        """Bring every turn to its durable state (after a turn ended, or on load).

        ``view`` may hold only some of the turns (a page, or a follower's newest
        ones): the turns it has before any the model knows are older ones, put in
        front; the ones after are new, put at the end; none loaded goes away."""
        if view.conversation_id != self.conversation_id:
            return
        self.title = view.title
        known = next((i for i, t in enumerate(view.turns) if t.turn_id in self.turns), None)
        older = view.turns[:known] if known else []
        was_empty = not self.turns
        for turn in view.turns[len(older) :]:
            item = self.turns.get(turn.turn_id)
            if item is None:
                self.turns[turn.turn_id] = TurnItem.from_turn(turn)
            elif turn.status == "running" and not item.finished:
                # The live events are ahead of the durable state while a turn runs.
                item.status = "running"
            else:
                item.update_from(turn)
            self._mark(turn.turn_id, tools=bool(turn.tool_calls))
        if was_empty and view.turns:
            self.earlier_turns = view.earlier_turns
        self.context_starts_at = view.context_starts_at
        if older:
            self._prepend(older, view.earlier_turns)
        else:
            self._mark_context_start()

    # -- older pages ---------------------------------------------------------------------

    @property
    def has_older(self) -> bool:
        """Whether the store holds turns before the loaded ones."""
        return self.earlier_turns > 0 and bool(self.turns)

    @property
    def loading_older(self) -> bool:
        return self._older_pending

    def request_older(self) -> bool:
        """Ask for the page before the loaded turns (``older_wanted``), once at a time.
        False when there is none, or it is already asked for."""
        if self._older_pending or not self.has_older:
            return False
        self._older_pending = True
        self.older_wanted.emit(next(iter(self.turns)))
        return True

    def prepend_older(self, view: ConversationView, before: str) -> None:
        """The page read before the turn ``before``; ignored when it no longer fits
        (another conversation, or older turns came meanwhile)."""
        if view.conversation_id != self.conversation_id:
            return
        self._older_pending = False
        if next(iter(self.turns), None) != before:
            return
        older = [t for t in view.turns if t.turn_id not in self.turns]
        if older:
            self._prepend(older, view.earlier_turns)
        else:
            self.earlier_turns = 0  # the store has nothing before it after all

    def older_failed(self) -> None:
        """The page could not be read (the conversation went): stop asking for more."""
        self._older_pending = False
        self.earlier_turns = 0

    def _prepend(self, turns: list[Turn], earlier: int) -> None:
        items = {t.turn_id: TurnItem.from_turn(t) for t in turns}
        self.turns = {**items, **self.turns}
        self.earlier_turns = earlier
        self._mark_context_start()
        self.older_loaded.emit(list(items))
        if any(item.tool_calls for item in items.values()):
            self._tools_dirty = True
            if not self._timer.isActive():
                self._timer.start()

    def _mark_context_start(self) -> None:
        # No marker on the conversation's very first turn: nothing above it is left out.
        first = next(iter(self.turns), None) if self.earlier_turns == 0 else None
        for item in self.turns.values():
            starts = item.turn_id == self.context_starts_at and item.turn_id != first
            if item.context_starts_here != starts:
                item.context_starts_here = starts
                self._mark(item.turn_id)

    def add_pending(self, turn_id: str, text: str) -> None:
        """The user's message, shown at once, before the backend has it."""
        if turn_id not in self.turns:
            self.turns[turn_id] = TurnItem(turn_id, text)
            self._mark(turn_id)

    def mark_held(self, turn_id: str) -> None:
        """The message waits in the outbox: the backend could not take it yet."""
        item = self.turns.get(turn_id)
        if item is not None and item.status in ("queued", "held"):
            item.status = "held"
            self._mark(turn_id)

    def mark_refused(self, turn_id: str, why: str) -> None:
        """The backend will not take the message as it is: it was not sent."""
        item = self.turns.get(turn_id)
        if item is not None and not item.finished:
            item.status = "failed"
            item.error = f"not sent: {why}"
            item.error_kind, item.error_message = "error", f"Not sent: {why}"
            self._mark(turn_id)

    def mark_sent(self, turn_id: str) -> None:
        """The backend has the message; its reply comes next (or after the ones before)."""
        item = self.turns.get(turn_id)
        if item is not None and item.status == "held":
            item.status = "queued"
            self._mark(turn_id)

    def restart_live(self, turn_id: str) -> None:
        """Live events for this turn will be replayed from its start."""
        item = self.turns.get(turn_id)
        if item is not None:
            item.live = TurnText()

    # -- approvals -----------------------------------------------------------------------

    def add_approval(self, pending: PendingApproval) -> None:
        """A call of this conversation waits for the user (as the store says): shown
        with its approval card, even when its live events are gone (a wait begun before
        the window opened, or before a restart)."""
        if pending.conversation_id != self.conversation_id or pending.call_id in self._settled:
            return
        item = self.turns.get(pending.turn_id)
        if item is None or item.finished:
            return
        call = item.tool_calls.get(pending.call_id)
        if call is None:
            item.tool_calls[pending.call_id] = ToolCallItem(
                pending.call_id,
                pending.tool,
                pending.arguments,
                "waiting",
                started_at=pending.requested_at,
                server=pending.server,
            )
        elif call.status not in ("waiting", "running"):
            return  # it ended meanwhile
        elif (call.status, call.server) == ("waiting", pending.server):
            return  # shown already
        else:
            call.status, call.server = "waiting", pending.server
            call.arguments = call.arguments or pending.arguments
        self._mark(item.turn_id, tools=True)

    def settle_approval(
        self, call_id: str, allowed: bool, reason: str | None = None, at: float | None = None
    ) -> None:
        """The user decided: the call runs, or is denied (and never runs)."""
        self._settled.add(call_id)
        for item in self.turns.values():
            call = item.tool_calls.get(call_id)
            if call is None:
                continue
            if call.waiting:
                if allowed:
                    call.status = "running"
                else:
                    call.status, call.error = "denied", denied_error(reason)
                    call.ended_at = at
                self._mark(item.turn_id, tools=True)
            return

    def waiting_calls(self) -> list[ToolCallItem]:
        """The calls of the loaded turns that wait for the user's decision."""
        return [c for c in self.all_tool_calls() if c.waiting]

    # -- live events ---------------------------------------------------------------------

    def apply_event(self, event: StreamEvent) -> None:
        if event.conversation_id != self.conversation_id:
            return
        item = self.turns.get(event.turn_id)
        if item is None:
            item = self.turns[event.turn_id] = TurnItem(
                event.turn_id, getattr(event, "text", "") if event.type == "turn_started" else ""
            )
        tools = False
        match event.type:
            case "turn_started":
                item.user_text = event.text or item.user_text
                if not item.finished:
                    item.status = "running"
            case "attempt_started" | "text_delta" | "reasoning_delta" | "message_done":
                if not item.live.apply(event):
                    return
                if item.finished:
                    return  # the durable state is already here
                item.status = "running"
                item.live_pending = True
            case "tool_call":
                call = item.tool_calls.get(event.call_id)
                if call is None:
                    item.tool_calls[event.call_id] = ToolCallItem(
                        event.call_id, event.name, event.arguments, started_at=event.ts
                    )
                call = item.tool_calls[event.call_id]
                call.attempts = max(call.attempts, event.attempt)
                tools = True
            case "tool_result":
                call = item.tool_calls.setdefault(
                    event.call_id, ToolCallItem(event.call_id, event.name, "")
                )
                call.status = "error" if event.error else "done"
                call.output, call.error = event.output, event.error
                call.duration_ms, call.ended_at = event.duration_ms, event.ts
                call.attempts = max(call.attempts, event.attempt)
                tools = True
            case "approval_requested":
                if event.call_id in self._settled or item.finished:
                    return
                call = item.tool_calls.setdefault(
                    event.call_id,
                    ToolCallItem(event.call_id, event.name, event.arguments, started_at=event.ts),
                )
                if call.status == "running":
                    call.status = "waiting"
                call.server = event.server
                call.arguments = call.arguments or event.arguments
                tools = True
            case "approval_settled":
                self.settle_approval(event.call_id, event.allowed, event.reason, event.ts)
                return
            case "turn_done":
                item.sync_live()
                item.end_waits()
                item.status = "done"
                item.input_tokens, item.output_tokens = event.input_tokens, event.output_tokens
            case "turn_failed":
                item.sync_live()
                item.end_waits()
                item.status = "failed"
                item.set_error(event.kind, event.message)
            case "turn_cancelled":
                item.sync_live()
                item.end_waits()
                item.status = "stopped"
                item.reply = event.partial or item.reply
        self._mark(event.turn_id, tools)

    # -- coalescing ----------------------------------------------------------------------

    def _mark(self, turn_id: str, tools: bool = False) -> None:
        self._dirty[turn_id] = None
        self._tools_dirty |= tools
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
        dirty, self._dirty = list(self._dirty), {}
        for turn_id in dirty:
            if (item := self.turns.get(turn_id)) is not None:
                item.sync_live()
        if dirty:
            self.flushes += 1
            self.turns_changed.emit(dirty)
        if self._tools_dirty:
            self._tools_dirty = False
            self.tool_calls_changed.emit()

    # -- queries -------------------------------------------------------------------------

    @property
    def running_turn_id(self) -> str | None:
        return next((t.turn_id for t in self.turns.values() if t.status == "running"), None)

    def all_tool_calls(self) -> list[ToolCallItem]:
        return [c for t in self.turns.values() for c in t.tool_calls.values()]

    def tool_call(self, call_id: str) -> ToolCallItem | None:
        return next((c for c in self.all_tool_calls() if c.call_id == call_id), None)
