"""The code base stays ruff-clean and keeps its layering (no Qt below desktop/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_BACKEND = ("PySide6", "qasync", "from desktop", "import desktop")


def test_ruff_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", str(REPO)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_backend_never_imports_qt() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "backend").rglob("*.py")
        if any(
            word in path.read_text()
            for word in ("PySide6", "qasync", "from desktop", "import desktop")
        )
    ]
    assert offenders == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = next(line.strip().strip("`") for line in readme.splitlines() if "-m pytest" in line)
    assert command in ci


def test_desktop_uses_the_client_api_not_temporal() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "desktop").rglob("*.py")
        if any(word in path.read_text() for word in ("import temporalio", "from temporalio"))
    ]
    assert offenders == []
