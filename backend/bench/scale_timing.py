"""Timing helpers for the scale benchmark: repeated calls summed up as ms figures."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from backend.bench.figures import percentile

T = TypeVar("T")


def summary_ms(samples_ms: list[float]) -> dict[str, float | int]:
    """Median, p90 and worst of some timings (ms), and how many."""
    return {
        "median": round(statistics.median(samples_ms), 2),
        "p90": round(percentile(samples_ms, 0.9), 2),
        "max": round(max(samples_ms), 2),
        "runs": len(samples_ms),
    }


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """(ms, result) of one awaited call."""
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


async def repeated_ms(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    """Each run's ms, after one untimed warm-up call (the first read of a file pays
    for the operating system's cache, not for the code measured)."""
    await call()
    return [(await timed(call))[0] for _ in range(runs)]
