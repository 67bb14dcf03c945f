"""``durachat`` (the window) where Qt's platform plugin cannot load, or there is no
display: one line on stderr and exit 1, never Qt's abort (SIGABRT)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serve_process import child_env

MISSING = "libdurachat-missing-test.so.1"
# What decides the platform, removed so the developer's own session does not leak in.
SESSION_VARS = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "WAYLAND_SOCKET",
    "XDG_SESSION_TYPE",
    "QT_QPA_PLATFORM",
    "QT_QPA_PLATFORM_PLUGIN_PATH",
    "QT_PLUGIN_PATH",
)


def session_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in child_env().items() if k not in SESSION_VARS}
    env.update(extra)
    return env


def gcc(*args: str | Path) -> None:
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.fail("gcc is needed to build the fake platform plugin (CI has it)")
    subprocess.run([compiler, *map(str, args)], check=True, capture_output=True, timeout=60)


@pytest.fixture
def broken_plugin_dir(tmp_path: Path) -> Path:
    """A ``libqxcb.so`` that needs a library that is not there, as a Qt xcb plugin on a
    system without libxcb-cursor0."""
    build, plugins = tmp_path / "build", tmp_path / "plugins"
    build.mkdir()
    plugins.mkdir()
    (build / "stub.c").write_text("int durachat_missing_test(void) { return 1; }\n")
    (build / "plugin.c").write_text(
        "int durachat_missing_test(void);\nint durachat_plugin(void) "
        "{ return durachat_missing_test(); }\n"
    )
    stub = build / MISSING
    gcc("-shared", "-fPIC", f"-Wl,-soname,{MISSING}", "-o", stub, build / "stub.c")
    gcc(
        "-shared",
        "-fPIC",
        "-o",
        plugins / "libqxcb.so",
        build / "plugin.c",
        "-Wl,--no-as-needed",  # keep the NEEDED entry on toolchains that drop unused ones
        stub,
    )
    stub.unlink()
    return plugins


def launch(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # --data-dir keeps the user's own data dir out of it, should the window ever open.
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def run_doctor(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "doctor", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_plugin_missing_a_library_says_which(broken_plugin_dir: Path, tmp_path: Path) -> None:
    env = session_env(
        QT_QPA_PLATFORM="xcb", DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugin_dir)
    )
    result = launch(tmp_path / "data", env)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("durachat: DuraChat cannot open its window: ")
    assert f"{MISSING} is missing" in lines[0]
    assert not (tmp_path / "data").exists()  # it stopped before the window started

    # doctor names the same library, as a failure.
    doctor = run_doctor(tmp_path / "d", env)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    window = next(line for line in doctor.stdout.splitlines() if " window:" in line)
    assert window.startswith("FAIL") and f"{MISSING} is missing" in window
    assert "Traceback" not in doctor.stderr


def test_no_display_says_so(tmp_path: Path) -> None:
    env = session_env(XDG_RUNTIME_DIR=str(tmp_path))  # no wayland-0 socket there either
    result = launch(tmp_path / "data", env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "durachat: no display to open the window on (DISPLAY is not set): run DuraChat from "
        "a desktop session, or use the command line: durachat --help"
    ]

    # doctor only warns: the command line and serve work without a display.
    doctor = run_doctor(tmp_path / "d", env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    window = next(line for line in doctor.stdout.splitlines() if " window:" in line)
    assert window.startswith("warn") and "no display" in window


def test_the_command_line_does_not_check_the_window(broken_plugin_dir: Path) -> None:
    env = session_env(
        QT_QPA_PLATFORM="xcb", DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugin_dir)
    )
    result = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert MISSING not in result.stdout + result.stderr
