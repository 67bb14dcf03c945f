"""Which key a provider gets: an OpenAI key in the environment never goes elsewhere."""

from __future__ import annotations

import pytest

from backend.local import keys


@pytest.fixture(autouse=True)
def no_keys_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in keys.ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def test_openai_api_key_is_for_openai_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-exported-for-other-tools")
    assert keys.get_api_key("openai") == "sk-exported-for-other-tools"
    # A LAN server or a proxy someone else runs must not receive it.
    assert keys.get_api_key("openai-compatible") is None
    assert keys.env_var_for("openai-compatible") is None


def test_durachat_api_key_is_for_the_chosen_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("DURACHAT_API_KEY", "sk-durachat")
    assert keys.get_api_key("openai-compatible") == "sk-durachat"
    assert keys.get_api_key("openai") == "sk-durachat"
    assert keys.env_var_for("openai") == "DURACHAT_API_KEY"
