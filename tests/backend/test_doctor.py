"""``durachat doctor`` tells the user what is wrong, one line per check."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.serve_process import ServeProcess, child_env, durachat_argv


def run_doctor(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*durachat_argv(), "doctor", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(**env),
    )


def test_all_good_with_a_keyring(tmp_path: Path) -> None:
    result = run_doctor(tmp_path / "d")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    names = ("temporal", "redis-server", "loopback port", "data dir", "keyring", "encryption key")
    for name in (*names, "backend"):
        assert any(line.startswith("ok") and f" {name}:" in line for line in lines), name
    assert "FileKeyring" in result.stdout  # the tests' stand-in for the OS keyring
    key_line = next(line for line in lines if " encryption key:" in line)
    assert "the OS keyring (FileKeyring)" in key_line
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700


def test_no_keyring_is_named_with_a_fix(tmp_path: Path) -> None:
    result = run_doctor(
        tmp_path / "d",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # a user who never had a keyring
    )
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if " keyring:" in line)
    assert line.startswith("FAIL")
    assert "no keyring available" in line
    assert "gnome-keyring" in line and "DURACHAT_API_KEY" in line
    # The encryption key then lives in a private file outside the data dir, and doctor
    # says so (it never makes the key itself).
    key_line = next(line for line in result.stdout.splitlines() if " encryption key:" in line)
    assert key_line.startswith("ok") and "payload-key.json" in key_line
    assert "no keyring on this system" in key_line
    assert "Traceback" not in result.stderr


def test_unusable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_doctor(blocker / "data")
    assert result.returncode == 1
    assert any(
        line.startswith("FAIL") and "data dir" in line and "not writable" in line
        for line in result.stdout.splitlines()
    )
    assert "Traceback" not in result.stderr


def test_reports_a_running_backend(serve: ServeProcess, data_dir: Path) -> None:
    serve.start()
    result = run_doctor(data_dir)
    assert f"already running on {data_dir} (pid {serve.pid})" in result.stdout


def test_data_dir_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "from-env"
    result = subprocess.run(
        [*durachat_argv(), "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(DURACHAT_DATA_DIR=str(target)),
    )
    assert str(target) in result.stdout
    assert target.is_dir()


def test_serve_on_an_unusable_data_dir_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = subprocess.run(
        [*durachat_argv(), "serve", "--data-dir", str(blocker / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("durachat: ")
    assert "Not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_made_in_a_keyring_that_is_gone_is_a_failure_with_a_fix(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "DuraChat").mkdir(parents=True)
    (config / "DuraChat" / "payload-key-is-in-the-keyring").write_text("")
    result = run_doctor(
        tmp_path / "d",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        XDG_CONFIG_HOME=str(config),
    )
    line = next(line for line in result.stdout.splitlines() if " encryption key:" in line)
    assert line.startswith("FAIL") and "unlock the keyring" in line
    assert result.returncode == 1


def test_an_mcp_server_that_cannot_start_is_named_with_what_it_said(tmp_path: Path) -> None:
    from tests.support.mcp_setup import stdio_server, write_mcp_json

    data_dir = tmp_path / "data"
    write_mcp_json(
        data_dir,
        {
            "good": stdio_server(tmp_path),
            "bad": stdio_server(tmp_path, "--fail-start", "no API token configured"),
        },
    )
    result = run_doctor(data_dir)
    lines = result.stdout.splitlines()
    assert "ok    MCP server good: 10 tools" in lines
    bad = lines.index(
        "warn  MCP server bad: cannot be used: it exited or closed the connection before answering"
    )
    assert "        | no API token configured" in lines[bad + 1 : bad + 6]
