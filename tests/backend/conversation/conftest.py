from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.settings import Settings
from tests.support.serve_process import ServeProcess


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One running backend for a module's tests (the demo model unpaced by default)."""
    sp = ServeProcess(
        tmp_path_factory.mktemp("backend") / "data", args=["--demo-tokens-per-second", "0"]
    )
    sp.start()
    yield sp
    sp.close()


@pytest.fixture
def settings_file(backend: ServeProcess) -> Iterator[Path]:
    """The backend's settings file, restored to the defaults after the test."""
    path = backend.data_dir / "settings.json"
    yield path
    Settings().save(path)
