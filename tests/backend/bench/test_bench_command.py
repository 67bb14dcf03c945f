"""``durachat bench`` runs end to end on its own backend and reports every path.

No timing is asserted (CI machines vary); what is asserted is what a reader of
the figures relies on: every path measured, every token delivered once.
"""

from __future__ import annotations

import json
import subprocess
import sys

from backend.bench.report import summary

PATHS = ("direct", "durachat", "workflow_streams")
BENCH = [sys.executable, "-m", "backend", "bench"]


def test_bench_reports_all_three_paths_with_nothing_lost() -> None:
    done = subprocess.run(
        [*BENCH, "--runs", "2", "--tokens", "50", "--pause", "0.05", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)  # one JSON object, nothing else on stdout

    assert result["machine"] and set(result["paths"]) == set(PATHS)
    assert result["options"]["pause_s"] == 0.05
    for name in PATHS:
        path = result["paths"][name]
        assert set(path["ttft_ms"]) == {"p50", "p90", "p99"}
        assert 0 < path["ttft_ms"]["p50"] <= path["ttft_ms"]["p90"] <= path["ttft_ms"]["p99"]
        assert path["full_reply_ms"]["p50"] >= path["ttft_ms"]["p50"]
        assert path["tokens_per_s"] > 0
        # 2 rounds x (unpaced + paced) + the throughput reply, every token exactly once
        assert path["replies"] == 5
        assert path["lost"] == 0 and path["duplicated"] == 0, (name, path)
        assert path["out_of_order_replies"] == 0
        if name == "direct":
            assert "chunk_to_subscriber_ms" not in path
        else:
            delays = path["chunk_to_subscriber_ms"]
            assert 0 <= delays["p50"] <= delays["p99"]
            assert path["worker_cpu_s_per_1k_tokens"] > 0
    assert result["cold_start_s"] > 0
    memory = result["resident_memory_mb"]
    for process in ("serve", "temporal", "redis", "worker", "demo-model"):
        assert memory[process] > 0, memory

    # The table a user reads shows the same figures, with ratios to direct.
    table = summary(result)
    durachat_ttft = result["paths"]["durachat"]["ttft_ms"]["p50"]
    assert f"{durachat_ttft:,.1f} (" in table
    assert "workflow_streams" in table and "cold start" in table


def test_bench_refuses_a_bad_count() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backend", "bench", "--runs", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "at least 1" in done.stderr and "Traceback" not in done.stderr
