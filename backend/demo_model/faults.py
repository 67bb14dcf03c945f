"""Injected faults: their syntax, and which attempt of a request gets them.

A fault is written ``KIND[:ARG][@K][xN]``:

- ``401``, ``500``: an OpenAI-shaped JSON error instead of a reply.
- ``429`` or ``429:SECONDS``: a rate-limit error with ``Retry-After: SECONDS`` (default 1;
  fractions are allowed because the openai client parses them, and they keep tests fast).
- ``drop@K``: the TCP connection is closed after K streamed tokens, mid-body.
- ``hang@K``: K tokens, then nothing more until the client goes away.
- ``malformed@K``: a data line that is not JSON after K tokens; the stream then goes on.
- ``empty``: a well-formed reply with no text, no reasoning and no tool call.

``xN`` limits the fault to the first N attempts of the same request, so a client that
retries recovers; without it the fault happens every time.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, cast

FaultKind = Literal["401", "429", "500", "drop", "hang", "malformed", "empty"]

HTTP_FAULTS: frozenset[FaultKind] = frozenset({"401", "429", "500"})
STREAM_FAULTS: frozenset[FaultKind] = frozenset({"drop", "hang", "malformed"})

_FAULT_RE = re.compile(
    r"^(?P<kind>401|429|500|drop|hang|malformed|empty)"
    r"(?::(?P<arg>\d+(?:\.\d+)?))?"
    r"(?:@(?P<at>\d+))?"
    r"(?:x(?P<times>\d+))?$"
)


class FaultSyntaxError(ValueError):
    """A fault spec that does not follow ``KIND[:ARG][@K][xN]``."""


@dataclass(frozen=True)
class FaultSpec:
    kind: FaultKind
    # Tokens streamed before a drop/hang/malformed fault strikes.
    at: int = 0
    # Seconds sent in Retry-After for a 429.
    retry_after: float = 1.0
    # Only the first `times` attempts of a request get the fault; None means every attempt.
    times: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        match = _FAULT_RE.match(text.strip())
        if match is None:
            raise FaultSyntaxError(
                f"bad fault {text!r}: expected 401, 429[:SECONDS], 500, drop@K, hang@K, "
                "malformed@K or empty, optionally followed by xN"
            )
        kind = cast(FaultKind, match["kind"])
        arg, at, times = match["arg"], match["at"], match["times"]
        if arg is not None and kind != "429":
            raise FaultSyntaxError(f"bad fault {text!r}: only 429 takes :SECONDS")
        if at is not None and kind not in STREAM_FAULTS:
            raise FaultSyntaxError(f"bad fault {text!r}: only drop, hang and malformed take @K")
        if times is not None and int(times) < 1:
            raise FaultSyntaxError(f"bad fault {text!r}: xN needs N >= 1")
        return cls(
            kind=kind,
            at=int(at) if at is not None else 0,
            retry_after=float(arg) if arg is not None else 1.0,
            times=int(times) if times is not None else None,
        )

    def __str__(self) -> str:
        text: str = self.kind
        if self.kind == "429":
            text += f":{format_seconds(self.retry_after)}"
        if self.kind in STREAM_FAULTS:
            text += f"@{self.at}"
        if self.times is not None:
            text += f"x{self.times}"
        return text


def format_seconds(seconds: float) -> str:
    """Whole seconds print as integers, as HTTP's Retry-After expects."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


class FaultLedger:
    """Counts attempts per request so that an ``xN`` fault stops after N of them.

    Keyed by a fingerprint of the request's conversation, never by headers, so a client's
    retry (new connection, new request id) still counts as the same request. Bounded, so a
    long benchmark cannot grow it without limit; only the event loop thread touches it.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._attempts: OrderedDict[str, int] = OrderedDict()
        self._max_entries = max_entries

    def strikes(self, fault: FaultSpec, fingerprint: str) -> bool:
        """Record one attempt of this request and say whether the fault applies to it."""
        if fault.times is None:
            return True
        attempt = self._attempts.pop(fingerprint, 0) + 1
        self._attempts[fingerprint] = attempt
        while len(self._attempts) > self._max_entries:
            self._attempts.popitem(last=False)
        return attempt <= fault.times
