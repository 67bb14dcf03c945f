"""The code base stays ruff-clean and keeps its layering (no Qt below desktop/)."""

from __future__ import annotations

import ast
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


# What desktop/ must not import: Temporal itself, our Temporal glue, the conversation
# workflow. (backend.workflows.conversation_types, plain pydantic types, is fine.)
FORBIDDEN_IN_DESKTOP = ("temporalio", "backend.temporal_connect", "backend.workflows.conversation")


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, by its full dotted name (``from a import b``
    counts as ``a`` and as ``a.b``: b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IN_DESKTOP)


def test_desktop_uses_the_client_api_not_temporal() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(filter(forbidden, imported_modules(path)))
        for path in (REPO / "desktop").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_desktop_import_check_catches_each_way_of_importing(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import temporalio.client as tc\n"
        "from backend import temporal_connect\n"
        "from backend.workflows import conversation\n"
        "from backend.workflows.conversation_types import ConversationView\n"
        "from backend.temporal_logging import forward_core_logs\n"
    )
    assert sorted(filter(forbidden, imported_modules(sample))) == [
        "backend.temporal_connect",
        "backend.workflows.conversation",
        "temporalio.client",
    ]
