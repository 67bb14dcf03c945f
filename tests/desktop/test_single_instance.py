"""The single-instance socket lives where only this user can reach it, never in /tmp."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.local.paths import DataDir
from desktop.single_instance import InstanceServer, ask_running_window_to_show, server_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix socket paths")


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def _assert_private_socket(name: str) -> None:
    path = Path(name)
    assert path.is_absolute()
    assert path.parent != Path(tempfile.gettempdir())
    assert stat.S_ISSOCK(path.stat().st_mode)
    parent = path.parent.stat()
    assert parent.st_uid == os.geteuid() and not parent.st_mode & 0o077


def _second_launch_shows_the_first(data: DataDir, qtbot: QtBot) -> None:
    instance = InstanceServer(data)
    try:
        assert instance.listening
        _assert_private_socket(server_name(data) or "")
        with qtbot.waitSignal(instance.show_requested, timeout=5000):
            assert ask_running_window_to_show(data)
    finally:
        instance.close()
    assert not ask_running_window_to_show(data)


def test_socket_in_the_runtime_dir(
    qapp: QApplication, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _private_dir(tmp_path / "run")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    data = DataDir(tmp_path / "data").ensure()
    assert Path(server_name(data) or "").parent == runtime
    _second_launch_shows_the_first(data, qtbot)


@pytest.mark.parametrize("runtime_dir", [None, "shared"])
def test_socket_in_the_data_dir_without_a_private_runtime_dir(
    qapp: QApplication,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    runtime_dir: str | None,
) -> None:
    if runtime_dir is None:
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    else:
        shared = tmp_path / runtime_dir
        shared.mkdir()
        shared.chmod(0o777)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    data = DataDir(tmp_path / "data").ensure()
    assert Path(server_name(data) or "").parent == data.root
    _second_launch_shows_the_first(data, qtbot)


def test_no_private_dir_with_room_means_no_socket(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    limit = 106 if sys.platform.startswith("linux") else 102
    data = DataDir(tmp_path / ("d" * max(1, limit - len(str(tmp_path))))).ensure()
    assert server_name(data) is None
    instance = InstanceServer(data)
    assert not instance.listening
    assert not ask_running_window_to_show(data)
    instance.close()
