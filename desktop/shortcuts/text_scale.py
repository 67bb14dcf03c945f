"""Text size steps for Ctrl+plus / Ctrl+minus, like a browser's zoom levels."""

from __future__ import annotations

from backend.local.settings import MAX_TEXT_SCALE, MIN_TEXT_SCALE

STEPS = (70, 80, 90, 100, 110, 125, 150, 175, 200)
assert STEPS[0] == MIN_TEXT_SCALE and STEPS[-1] == MAX_TEXT_SCALE


def larger(scale: int) -> int:
    return next((s for s in STEPS if s > scale), STEPS[-1])


def smaller(scale: int) -> int:
    return next((s for s in reversed(STEPS) if s < scale), STEPS[0])
