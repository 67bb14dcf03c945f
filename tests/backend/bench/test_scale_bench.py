"""``python -m backend.bench.scale`` runs end to end, scaled down, and reports every figure.

No timing is asserted (machines vary); what is asserted is what a reader of the
figures relies on: each figure measured and printed beside its target, the list
right after the worker's SIGKILL complete, the turns all answered, and no process
of the benchmark's backend left running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from tests.support.serve_process import child_env

CONVERSATIONS = 200
TURNS = 20
REDIS_CONVERSATIONS = 20
SCALE = [
    sys.executable, "-m", "backend.bench.scale", "--json",
    "--conversations", str(CONVERSATIONS), "--turns", str(TURNS),
    "--redis-conversations", str(REDIS_CONVERSATIONS),
]  # fmt: skip


def _run_scaled_down() -> dict[str, Any]:
    done = subprocess.run(SCALE, capture_output=True, text=True, timeout=240, env=child_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)  # one JSON object, nothing else on stdout


def _processes_in(data_dir: str) -> list[str]:
    """Processes whose command line names the benchmark's data dir (serve, its children)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if data_dir in cmdline:
            found.append(f"{proc.info['pid']} {cmdline[:200]}")
    return found


def _assert_reads(result: dict[str, Any]) -> None:
    build, reads = result["build"], result["reads"]
    assert build["conversations"] == CONVERSATIONS
    assert build["messages"] == CONVERSATIONS * 20  # the default 20 messages each
    assert build["tool_calls"] > 0 and build["seconds"] > 0
    assert reads["list"]["count"] == CONVERSATIONS and reads["list"]["median"] > 0
    searches = {s["what"]: s for s in reads["search"]}
    assert len(searches) == 6 and all(s["median"] >= 0 for s in searches.values())
    assert searches["a word most conversations use"]["hits"] > CONVERSATIONS // 2
    named = searches["one conversation's made-up name"]
    assert named["hits"] >= 1 and named["finds_its_conversation"] is True
    assert searches["a word in no conversation"]["hits"] == 0
    assert reads["history"]["turns_read"] == 10  # all of the newest built conversation's
    assert reads["cli_list"]["count"] == CONVERSATIONS and reads["cli_list"]["median_s"] > 0


def _assert_turns(result: dict[str, Any]) -> None:
    long = result["long_conversation"]
    assert long["turns"] == TURNS and long["not_done"] == 0 and long["no_text"] == 0
    assert long["reply_bytes_median"] >= 2048
    assert long["ttft_first_ms"] > 0 and long["ttft_last_ms"] > 0
    assert long["ttft_difference_ms"] is not None
    assert long["runs"] and all(run["history_bytes"] > 0 for run in long["runs"])
    assert long["history"]["turns_in_conversation"] == TURNS


def _assert_redis(result: dict[str, Any]) -> None:
    redis = result["redis"]
    assert redis["at_start"] > 0 and redis["after_long_conversation"] > redis["at_start"]
    idle = redis["idle"]
    assert idle["conversations"] == REDIS_CONVERSATIONS
    assert set(idle["keys"]) == {"events", "seq", "publishers"}
    # The streams of turns just stored are set to expire, never kept for ever.
    assert idle["keys"]["events"]["lifetime"] == ["expires_with_stream"]
    assert idle["extrapolated_idle_used_memory"] >= redis["at_start"]
    assert idle["extrapolated_idle_conversations"] == 10_000


def test_scale_bench_reports_every_figure_and_leaves_nothing_running() -> None:
    result = _run_scaled_down()

    assert result["command"].startswith("python -m backend.bench.scale --json")
    assert result["machine"] and result["options"]["turns"] == TURNS
    _assert_reads(result)

    # Right after the worker's SIGKILL, the list had every conversation.
    killed = result["after_worker_kill"]
    assert killed["count"] == killed["expected"] == CONVERSATIONS
    assert killed["complete"] is True and killed["first_list_ms"] > 0

    _assert_turns(result)
    _assert_redis(result)

    # Every figure stands beside its target, in the JSON as in the table.
    checks = result["checks"]
    assert len(checks) == 18
    for check in checks:
        assert check["figure"] and check["shown"] and check["target"], check
        assert check["met"] in (True, False, None), check

    # Stopped cleanly, nothing left, the temporary data dir gone.
    assert result["stop"]["exit_code"] == 0
    assert result["stop"]["left_running"] == []
    assert _processes_in(result["data_dir"]) == []
    assert result["kept"] is False and not Path(result["data_dir"]).exists()


def test_scale_bench_refuses_a_bad_count() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backend.bench.scale", "--turns", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    assert done.returncode == 2
    assert "at least 1" in done.stderr and "Traceback" not in done.stderr
