"""How long the UI thread goes without answering: a fast timer that records its lateness.

A precise timer asks to fire every few milliseconds; whatever keeps the event loop busy
(rendering, layout, handling events) delays the next firing. The lateness of a firing is
the time since the previous one beyond the interval: 0 for an idle loop, and the length
of any stall the user would have felt as a frozen window.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Qt, QTimer

DEFAULT_INTERVAL_MS = 5


class LatenessProbe(QObject):
    def __init__(
        self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.lateness_ms: list[float] = []
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lateness_ms = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._tick()  # a stall running up to now counts too
        self._timer.stop()
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness_ms.append(max(0.0, (now - self._last) * 1000 - self.interval_ms))
        self._last = now

    @property
    def max_ms(self) -> float:
        return max(self.lateness_ms, default=0.0)

    def percentile_ms(self, percent: float) -> float:
        """The nearest-rank percentile of the recorded lateness."""
        if not self.lateness_ms:
            return 0.0
        ranked = sorted(self.lateness_ms)
        return ranked[max(0, math.ceil(percent / 100 * len(ranked)) - 1)]

    def summary(self) -> str:
        return (
            f"{len(self.lateness_ms)} ticks of {self.interval_ms} ms: max lateness "
            f"{self.max_ms:.1f} ms, p99 {self.percentile_ms(99):.1f} ms, "
            f"p50 {self.percentile_ms(50):.1f} ms"
        )
