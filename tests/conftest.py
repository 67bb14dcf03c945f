from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.file_keyring import ENV as KEYRING_FILE_ENV
from tests.support.serve_process import KEYRING_BACKEND, ServeProcess

# Every keyring call of the test run (this process and its children) goes to a file of
# this run's, never to a real keyring; so does the key file kept where no keyring exists
# (the user's config dir).
_RUN_DIR = Path(tempfile.mkdtemp(prefix="durachat-tests-"))
os.environ["PYTHON_KEYRING_BACKEND"] = KEYRING_BACKEND
os.environ[KEYRING_FILE_ENV] = str(_RUN_DIR / "keyring.json")
os.environ["XDG_CONFIG_HOME"] = str(_RUN_DIR / "config")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def serve(data_dir: Path) -> Iterator[ServeProcess]:
    """A not-yet-started ``durachat serve`` on a fresh data dir; stopped after the test."""
    sp = ServeProcess(data_dir)
    yield sp
    sp.close()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One running backend for a module's tests (the demo model unpaced by default)."""
    sp = ServeProcess(
        tmp_path_factory.mktemp("backend") / "data", args=["--demo-tokens-per-second", "0"]
    )
    sp.start()
    yield sp
    sp.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults",
        type=int,
        default=30,
        help="how many faults the fault matrix injects (tests/faults/test_fault_matrix.py)",
    )
    parser.addoption("--fault-seed", type=int, default=20261123, help="the fault matrix's seed")
