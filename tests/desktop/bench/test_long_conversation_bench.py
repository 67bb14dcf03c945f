"""``python -m desktop.bench.long_conversation`` runs, scaled down, and reports every
figure. No timing is asserted (machines vary): what is asserted is what a reader of
the figures relies on — the conversation opened at its newest turn with only a few
turns built, paging up reached its first turn, and memory was measured both ways."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.serve_process import child_env

TURNS = 120


def test_the_window_benchmark_reports_every_figure() -> None:
    env = {**child_env(), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "desktop.bench.long_conversation", "--turns", str(TURNS), "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["turns"] == TURNS
    assert figures["first_paint_ms"] > 0
    assert 0 < figures["turns_built_at_first_paint"] < TURNS  # lazily, not all of them
    assert figures["reached_top"] is True
    assert figures["scroll_frames"] > 0 and figures["scroll_frame_max_ms"] > 0
    assert figures["idle_rss_mb"] > 0 and figures["open_rss_mb"] > 0
    grown = figures["open_rss_mb"] - figures["idle_rss_mb"]
    assert abs(figures["open_minus_idle_mb"] - grown) < 0.2  # each figure rounded apart
