"""Kill every part of DuraChat mid-reply, again and again: nothing is lost or duplicated.

``pytest tests/faults/test_fault_matrix.py --faults 300`` for the long run; the
figures print with ``-s`` (or run ``python -m tests.faults.matrix``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.matrix import KINDS, PHASES, run_matrix


@pytest.mark.timeout(3600)
def test_fault_matrix(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    faults = request.config.getoption("--faults")
    seed = request.config.getoption("--fault-seed")
    report = asyncio.run(run_matrix(faults, seed, tmp_path))
    print("\n" + report.render())

    assert len(report.results) == faults
    by_kind = report.by_kind()
    assert set(by_kind) == set(KINDS)  # every part was killed
    # ... while replies streamed, while calls waited for approval, while MCP calls ran
    assert set(report.by_phase()) == set(PHASES)
    problems = [p for r in report.results for p in r.problems] + report.final_problems
    assert problems == []
    # The replies in flight finished by themselves, as complete replies.
    assert all(r.status == "done" for r in report.results)
    for kind, row in by_kind.items():
        timing = row["restart_to_tokens_s"]
        assert isinstance(timing, dict)
        # Tokens resumed after most faults (a reply may end while its part restarts).
        assert timing["measured"] >= 1, kind
