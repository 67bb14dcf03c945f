from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.local.settings import Settings
from tests.support.serve_process import ServeProcess


@pytest.fixture
def settings_file(backend: ServeProcess) -> Iterator[Path]:
    """The backend's settings file, restored to the defaults after the test."""
    path = backend.data_dir / "settings.json"
    yield path
    Settings().save(path)
