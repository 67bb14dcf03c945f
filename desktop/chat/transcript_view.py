"""The transcript: one widget per turn, read as a conversation, built lazily.

A widget per turn is costly (memory, style sheet work), so only a window of the
loaded turns has one: the newest ones when a conversation opens, more above as the
user scrolls up (older pages are read from the store on the way), more below as
they scroll back down. Past ``MAX_BUILT`` widgets, the ones far from the viewport
are let go. Whatever is added or let go above the viewport, what the user sees
stays where it is: the scroll bar moves by the height that changed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.chat.approval_card import ApprovalCard
from desktop.chat.tool_card import ToolCard, card_text, short_arguments
from desktop.chat.transcript_model import TranscriptModel
from desktop.chat.turn_widget import COLUMN_WIDTH, DEFAULT_ASSISTANT, TurnWidget
from desktop.style.tokens import SPACING

__all__ = ["ToolCard", "TranscriptView", "TurnWidget", "card_text", "short_arguments"]

BUILD_STEP = 4  # turns built at a time: one step per event loop turn keeps frames short
MAX_BUILT = 24  # turn widgets kept at most, when the others are far enough to let go
EDGE_VIEWPORTS = 1  # within this many viewport heights of an end, more is built
LOADING_EARLIER = "Loading earlier messages…"

Anchor = tuple[TurnWidget, int]  # a widget and its y in the viewport


class TranscriptView(QScrollArea):
    """Follows the stream to the bottom unless the user scrolled up."""

    tool_clicked = Signal(str)
    retry_requested = Signal(str)  # the user text of a turn whose Retry was clicked
    approval_decided = Signal(str, bool, bool, str)  # call id, allow, always, reason

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.model = model
        self.assistant = DEFAULT_ASSISTANT
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._inner.setObjectName("transcriptPage")
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(SPACING.xl, SPACING.xl, SPACING.xl, SPACING.lg)
        self._layout.setSpacing(SPACING.sm)
        # Above the turns: says older ones are coming (hidden once the first is built).
        self.top_note = QLabel(LOADING_EARLIER)
        self.top_note.setObjectName("turnStatus")
        self.top_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_note.hide()
        self._layout.addWidget(self.top_note)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self.widgets: dict[str, TurnWidget] = {}
        self.built: list[str] = []  # the turns with a widget, in order: a run of the model's
        self._at_end = True  # the built run ends with the model's newest turn
        self._last_id: str | None = None
        self._follow = True
        # Kept in place until the user scrolls: turns just built may still grow (their
        # text laid out) after the first layout.
        self._kept: Anchor | None = None
        self._restoring = False
        # Edges are looked at once control returns: a scroll or a resize may come in
        # bursts, and building inside the scroll bar's signal would nest layouts.
        self._edge_timer = QTimer(self)
        self._edge_timer.setSingleShot(True)
        self._edge_timer.setInterval(0)
        self._edge_timer.timeout.connect(self._check_edges)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        model.reset.connect(self.rebuild)
        model.turns_changed.connect(self.update_turns)
        model.older_loaded.connect(self._on_older_loaded)

    def set_assistant_name(self, name: str) -> None:
        """The name on the assistant's replies (the model's, when known)."""
        self.assistant = name or DEFAULT_ASSISTANT
        for widget in self.widgets.values():
            widget.set_assistant_name(self.assistant)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # The column stays centred and at most COLUMN_WIDTH wide: the page's side margins
        # take the rest.
        side = max(SPACING.xl, (event.size().width() - COLUMN_WIDTH) // 2)
        margins = self._layout.contentsMargins()
        if margins.left() != side:
            self._layout.setContentsMargins(side, margins.top(), side, margins.bottom())
        super().resizeEvent(event)
        self._edge_timer.start()

    def _on_scrolled(self, value: int) -> None:
        if not self._restoring:
            self._kept = None  # the user moved: what they see now is theirs
        self._follow = self._at_end and value >= self.verticalScrollBar().maximum() - 4
        self._edge_timer.start()

    def _on_range(self, _min: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
        elif self._kept is not None:
            self._restore(self._kept)
        self._edge_timer.start()

    def show_decision_error(self, call_id: str, message: str) -> None:
        """A decision on a waiting call was not taken: its approval card says why."""
        for widget in self.widgets.values():
            if widget.show_decision_error(call_id, message):
                return

    def approval_card(self, call_id: str) -> ApprovalCard | None:
        """The approval card shown for a waiting call, if its turn is built."""
        return next(
            (w.approvals[call_id] for w in self.widgets.values() if call_id in w.approvals), None
        )

    # -- the model's changes ---------------------------------------------------------

    def rebuild(self) -> None:
        self._kept = None
        for turn_id in self.built:
            self._drop(turn_id)
        self.built = []
        self._at_end = True
        self._last_id = None
        self._follow = True
        self.update_turns(list(self.model.turns))

    def update_turns(self, turn_ids: list[str]) -> None:
        order = list(self.model.turns)
        fresh: list[str] = []
        if not self.built:
            fresh = order[-BUILD_STEP:]
            self._insert(fresh, 0)
            self._at_end = True
        elif self._at_end:
            # New turns come at the end: shown as they come, as the user is there.
            fresh = order[order.index(self.built[-1]) + 1 :]
            self._insert(fresh, len(self.built))
        elif any(order.index(t) > order.index(self.built[-1]) for t in self._new(turn_ids)):
            # A turn was added (sent) while the user reads far above: show the newest.
            self._jump_to_end()
            return
        self._show(set(turn_ids) | set(fresh))
        self._trim()

    def _new(self, turn_ids: list[str]) -> list[str]:
        return [t for t in turn_ids if t not in self.widgets and t in self.model.turns]

    def _on_older_loaded(self, turn_ids: list[str]) -> None:
        # Built at once when the run starts at the model's first turn, else (the user
        # is elsewhere) once the user scrolls up to them.
        order = list(self.model.turns)
        if self.built and order.index(self.built[0]) == len(turn_ids):
            self._extend_top()
        else:
            self._show_note()

    def _jump_to_end(self) -> None:
        for turn_id in self.built:
            self._drop(turn_id)
        self.built = []
        self._follow = True
        self.update_turns([])

    # -- building and letting go -----------------------------------------------------

    def _insert(self, turn_ids: list[str], at: int) -> None:
        """Widgets for ``turn_ids``, placed at ``at`` in the built run."""
        for offset, turn_id in enumerate(turn_ids):
            widget = self.widgets[turn_id] = TurnWidget(turn_id, self.assistant)
            widget.tool_clicked.connect(self.tool_clicked)
            widget.retry_requested.connect(self.retry_requested)
            widget.approval_decided.connect(self.approval_decided)
            self._layout.insertWidget(1 + at + offset, widget)  # after the top note
            # Shown now, not when the layout's queued call would: a hidden widget takes
            # no room, and the room it takes is what keeps the view in place.
            widget.show()
        self.built[at:at] = turn_ids

    def _drop(self, turn_id: str) -> None:
        widget = self.widgets.pop(turn_id)
        self._layout.removeWidget(widget)
        widget.hide()  # out of the layout's sums now, deleted once control returns
        widget.deleteLater()
        if turn_id == self._last_id:
            self._last_id = None

    def _show(self, turn_ids: set[str]) -> None:
        # One pass in conversation order: a queued turn says whether it waits behind one.
        busy = False
        for turn_id, turn in self.model.turns.items():
            widget = self.widgets.get(turn_id)
            if widget is not None:
                if turn_id in turn_ids:
                    widget.show_turn(turn, busy)
                elif turn.status == "queued":
                    widget.show_status(turn, busy)  # the turn ahead of it may have ended
            busy = busy or not turn.finished
        self._mark_last()
        self._show_note()

    def _mark_last(self) -> None:
        turn_id = next(reversed(self.model.turns), None)
        if turn_id != self._last_id and (old := self.widgets.get(self._last_id or "")):
            old.set_last(False)
        self._last_id = turn_id
        if (new := self.widgets.get(turn_id or "")) is not None:
            new.set_last(True)

    def _show_note(self) -> None:
        first = next(iter(self.model.turns), None)
        more = bool(self.built) and (self.built[0] != first or self.model.has_older)
        if self.top_note.isHidden() == more:
            self.top_note.setVisible(more)

    def _check_edges(self) -> None:
        """Build more where the user nears an end of the built run."""
        if not self.built:
            return
        bar = self.verticalScrollBar()
        margin = self.viewport().height() * EDGE_VIEWPORTS
        if bar.value() <= margin:
            self._extend_top()
        elif not self._at_end and bar.maximum() - bar.value() <= margin:
            self._extend_bottom()

    def _extend_top(self) -> None:
        order = list(self.model.turns)
        first = order.index(self.built[0])
        if first == 0:
            self.model.request_older()  # read from the store; comes as older_loaded
            return
        anchor = self._anchor()
        fresh = order[max(0, first - BUILD_STEP) : first]
        self._insert(fresh, 0)
        self._show(set(fresh))
        self._trim(keep_top=True)
        self._settle(anchor)

    def _extend_bottom(self) -> None:
        order = list(self.model.turns)
        last = order.index(self.built[-1])
        fresh = order[last + 1 : last + 1 + BUILD_STEP]
        self._insert(fresh, len(self.built))
        self._at_end = self.built[-1] == order[-1]
        self._show(set(fresh))
        self._trim(keep_top=False)

    def _trim(self, keep_top: bool | None = None) -> None:
        """Let go of widgets past MAX_BUILT, from the end farther from the viewport,
        only those well out of sight (so the user never nears an end let go)."""
        excess = len(self.built) - MAX_BUILT
        if excess <= 0:
            return
        bar = self.verticalScrollBar()
        if keep_top is None:
            keep_top = bar.value() < bar.maximum() / 2
        reach = 2 * EDGE_VIEWPORTS * self.viewport().height()
        if keep_top:
            beyond = bar.value() + self.viewport().height() + reach
            gone = [t for t in self.built[-excess:] if self.widgets[t].y() > beyond]
            for turn_id in gone:
                self._drop(turn_id)
            if gone:
                self.built = self.built[: len(self.built) - len(gone)]
                self._at_end = False
                self._follow = False
            return
        anchor = self._anchor()
        above = bar.value() - reach
        gone = []
        for turn_id in self.built[:excess]:
            widget = self.widgets[turn_id]
            if widget.y() + widget.height() >= above:
                break
            gone.append(turn_id)
        for turn_id in gone:
            self._drop(turn_id)
        self.built = self.built[len(gone) :]
        self._show_note()
        self._settle(anchor)

    # -- keeping what the user sees in place -----------------------------------------

    def _anchor(self) -> Anchor | None:
        """The first turn in sight and its y in the viewport (None while following:
        the bottom is what stays in place then)."""
        if self._follow:
            return None
        self._lay_out()
        top = self.verticalScrollBar().value()
        for turn_id in self.built:
            widget = self.widgets[turn_id]
            if widget.y() + widget.height() > top:
                return widget, widget.y() - top
        return None

    def _settle(self, anchor: Anchor | None) -> None:
        """Lay out now and scroll so the anchor is where it was: nothing jumps."""
        self._lay_out()
        if anchor is not None:
            self._kept = anchor
            self._restore(anchor)

    def _restore(self, anchor: Anchor) -> None:
        widget, y = anchor
        if self.widgets.get(widget.turn_id) is not widget:
            self._kept = None  # let go meanwhile
            return
        self._restoring = True
        try:
            self.verticalScrollBar().setValue(widget.y() - y)
        finally:
            self._restoring = False

    def _lay_out(self) -> None:
        # The page's layout and the scroll bar's range follow posted layout requests:
        # handled here, now, so positions read next are the ones painted next.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
