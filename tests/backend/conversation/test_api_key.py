"""The API key goes from the keyring to the model's HTTP call, and nowhere else."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from backend.local.settings import Settings
from tests.support.chat import record_turn, with_client
from tests.support.demo_model_process import demo_model
from tests.support.file_keyring import FileKeyring, no_keyring_here, own_keyring
from tests.support.serve_process import ServeProcess, child_env


def test_key_reaches_the_provider_and_appears_nowhere_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"sk-test-{secrets.token_hex(16)}"
    keyring_env = own_keyring(tmp_path, monkeypatch)  # outside the data dir, like a real one
    FileKeyring().set_password("durachat", "openai-compatible", key)

    data_dir = tmp_path / "data"
    with demo_model(
        "--tokens-per-second", "0", "--require-key-env", "EXPECTED_KEY", EXPECTED_KEY=key
    ) as base_url:
        data_dir.mkdir(mode=0o700)
        Settings(provider="openai-compatible", base_url=base_url, model="demo").save(
            data_dir / "settings.json"
        )
        sp = ServeProcess(
            data_dir,
            env=child_env(
                PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
                **keyring_env,
            ),
        )
        try:
            sp.start()
            ok = with_client(data_dir, lambda c: record_turn(c, "[demo tokens=6]"))
            assert ok.turn.status == "done" and ok.turn.reply == "w1 w2 w3 w4 w5 w6 "

            FileKeyring().set_password("durachat", "openai-compatible", "sk-test-wrong-key")
            bad = with_client(data_dir, lambda c: record_turn(c, "[demo tokens=6]"))
            assert bad.turn.status == "failed"
            assert bad.turn.error is not None and bad.turn.error.kind == "auth"
            assert len(bad.of_type("attempt_started")) == 1
            assert sp.terminate() == 0  # Redis writes its append-only file on the way out
        finally:
            sp.close()

    leaks = [
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and key.encode() in path.read_bytes()
    ]
    assert leaks == []
    assert (data_dir / "temporal.db").stat().st_size > 0
    assert any((data_dir / "redis").iterdir())


def test_openai_without_a_key_or_keyring_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    Settings(provider="openai").save(data_dir / "settings.json")
    # A user who never had a keyring: the encryption key goes to their config dir.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    env = child_env(
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    env.pop("DURACHAT_API_KEY", None)
    env.pop("OPENAI_API_KEY", None)
    sp = ServeProcess(data_dir, env=env)
    try:
        sp.start()
        with no_keyring_here():
            rec = with_client(data_dir, lambda c: record_turn(c, "hello"))
    finally:
        sp.close()
    assert rec.turn.status == "failed"
    assert rec.turn.error is not None and rec.turn.error.kind == "configuration"
    assert "no OpenAI API key" in rec.turn.error.message
    assert "no keyring is available" in rec.turn.error.message
    assert "DURACHAT_API_KEY" in rec.turn.error.message
