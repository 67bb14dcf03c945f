"""Putting a turn's text back together from its live events, without duplicates.

Text and reasoning are kept per model call, and per call only from its newest
attempt: when ``attempt_started`` says a call is being retried, what the failed
attempt had shown is dropped. ``message_done`` replaces a call's text with the
truth. Used by subscribers and by the worker when a Stop keeps a partial reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.stream.events import (
    AttemptStarted,
    MessageDone,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
)


@dataclass
class _Call:
    attempt: int = 0
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)


@dataclass
class TurnText:
    calls: dict[int, _Call] = field(default_factory=dict)

    def apply(self, event: StreamEvent) -> bool:
        """Fold one event in; True when the visible text or reasoning changed."""
        if not isinstance(event, AttemptStarted | TextDelta | ReasoningDelta | MessageDone):
            return False
        call = self.calls.setdefault(event.call, _Call())
        if event.attempt < call.attempt:
            return False  # a straggler from an attempt that was already superseded
        if event.attempt > call.attempt:
            changed = bool(call.text or call.reasoning)
            self.calls[event.call] = call = _Call(attempt=event.attempt)
            if not isinstance(event, AttemptStarted):
                return self.apply(event) or changed
            return changed
        if isinstance(event, TextDelta):
            call.text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            call.reasoning.append(event.text)
        elif isinstance(event, MessageDone):
            call.text = [event.text]
        else:
            return False
        return True

    @property
    def text(self) -> str:
        """The reply as the user reads it: the text of the newest model call that has any."""
        for index in sorted(self.calls, reverse=True):
            if self.calls[index].text:
                return "".join(self.calls[index].text)
        return ""

    @property
    def reasoning(self) -> str:
        return "".join("".join(self.calls[i].reasoning) for i in sorted(self.calls))
