"""What one benchmark path delivered, and the figures made from it.

Every reply is asked for with the demo model's ``stamp=1``, so each token carries
the wall-clock time the model wrote it; the subscriber notes when it arrived.
That gives, per token, the model-chunk-to-subscriber delay, and, per reply, the
time to first token and to the whole reply, all on one machine's clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from backend.demo_model.script import read_stamp


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class ReplyRecord:
    """One reply as its subscriber saw it."""

    expected_tokens: int
    sent_at: float = field(default_factory=time.time)  # wall clock, just before sending
    # (token index, model's send time, arrival time) per text token, in arrival order
    tokens: list[tuple[int, float, float]] = field(default_factory=list)
    _partial: str = ""

    def on_text(self, text: str) -> None:
        """Called by a path for each text delta, the moment it arrives."""
        arrived = time.time()
        # A path may split or join tokens (deltas need not be one token each): read
        # whole tokens, each ending in its space, and keep an unfinished tail.
        self._partial += text
        *whole, self._partial = self._partial.split(" ")
        for token in whole:
            stamp = read_stamp(token)
            if stamp is not None:
                self.tokens.append((stamp[0], stamp[1], arrived))

    @property
    def ttft_ms(self) -> float | None:
        return (self.tokens[0][2] - self.sent_at) * 1000 if self.tokens else None

    @property
    def full_reply_ms(self) -> float | None:
        return (self.tokens[-1][2] - self.sent_at) * 1000 if self.tokens else None

    def chunk_delays_ms(self) -> list[float]:
        return [(arrived - sent) * 1000 for _i, sent, arrived in self.tokens]

    @property
    def lost(self) -> int:
        return self.expected_tokens - len({i for i, _s, _a in self.tokens})

    @property
    def duplicated(self) -> int:
        return len(self.tokens) - len({i for i, _s, _a in self.tokens})

    @property
    def in_order(self) -> bool:
        return [i for i, _s, _a in self.tokens] == sorted(i for i, _s, _a in self.tokens)

    def tokens_per_s(self) -> float:
        """Tokens over the time from the model's first chunk to the subscriber's last:
        the rate the path carried the model's output (a path that batches gets no
        credit for delivering a batch at once)."""
        if not self.tokens:
            return 0.0
        span = self.tokens[-1][2] - min(sent for _i, sent, _a in self.tokens)
        return len(self.tokens) / span if span > 0 else 0.0


@dataclass
class PathRecords:
    """Everything one path delivered in a benchmark run."""

    unpaced: list[ReplyRecord] = field(default_factory=list)
    paced: list[ReplyRecord] = field(default_factory=list)
    stream: list[ReplyRecord] = field(default_factory=list)  # the big unpaced replies
    worker_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    tokens_carried: int = 0

    def all_replies(self) -> list[ReplyRecord]:
        return self.unpaced + self.paced + self.stream

    def figures(self, relayed: bool) -> dict[str, object]:
        def ms(values: list[float | None], *qs: tuple[str, float]) -> dict[str, float]:
            present = [v for v in values if v is not None]
            return {name: round(percentile(present, q), 1) for name, q in qs}

        p50, p90, p99 = ("p50", 0.5), ("p90", 0.9), ("p99", 0.99)
        replies = self.all_replies()
        out: dict[str, object] = {
            "ttft_ms": ms([r.ttft_ms for r in self.unpaced], p50, p90, p99),
            "full_reply_ms": ms([r.full_reply_ms for r in self.unpaced], p50, p90),
            "ttft_paced_ms": ms([r.ttft_ms for r in self.paced], p50, p90, p99),
            "tokens_per_s": round(max((r.tokens_per_s() for r in self.stream), default=0.0)),
            "lost": sum(r.lost for r in replies),
            "duplicated": sum(r.duplicated for r in replies),
            "out_of_order_replies": sum(not r.in_order for r in replies),
            "replies": len(replies),
        }
        if relayed:
            paced = [d for r in self.paced for d in r.chunk_delays_ms()]
            unpaced = [d for r in self.unpaced for d in r.chunk_delays_ms()]
            out["chunk_to_subscriber_ms"] = ms(paced, p50, p99)  # type: ignore[arg-type]
            out["chunk_to_subscriber_unpaced_ms"] = ms(unpaced, p50, p99)  # type: ignore[arg-type]
        if self.tokens_carried:
            per_k = 1000 / self.tokens_carried
            out["worker_cpu_s_per_1k_tokens"] = round(self.worker_cpu_s * per_k, 4)
            out["temporal_cpu_s_per_1k_tokens"] = round(self.server_cpu_s * per_k, 4)
        return out
