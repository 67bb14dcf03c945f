"""Where a key may go, decided by ``choose_endpoint``; a provider switch drops the old
provider's base URL. Fast: no processes, no sockets."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.local.paths import DataDir
from backend.local.settings import OPENAI_BASE_URL, Settings, save_choices
from backend.models.endpoint import NO_KEY, EndpointError, choose_endpoint, is_loopback_host

KEY = f"sk-test-{secrets.token_hex(16)}"
LAN_URLS = [
    "http://192.168.1.20:11434/v1",
    "http://10.0.0.5/v1",
    "http://ollama.lan:11434/v1",
    "http://[fe80::1]:11434/v1",
    "http://127.0.0.1.example.com/v1",  # looks local, resolves anywhere
    "http://localhost.example.com/v1",
]
LOOPBACK_URLS = [
    "http://127.0.0.1:11434/v1",
    "http://127.9.8.7:8080/v1",
    "http://localhost:11434/v1",
    "http://LOCALHOST:11434/v1",
    "http://[::1]:11434/v1",
    "http://[::ffff:127.0.0.1]:11434/v1",
]


def compatible(base_url: str) -> Settings:
    return Settings(provider="openai-compatible", base_url=base_url)


def openai_via(base_url: str) -> Settings:
    return Settings(provider="openai", base_url=base_url)


@pytest.mark.parametrize("url", LAN_URLS)
@pytest.mark.parametrize("settings_for", [compatible, openai_via])
def test_a_key_never_goes_over_plain_http_to_another_machine(
    settings_for: Callable[[str], Settings], url: str
) -> None:
    with pytest.raises(EndpointError) as refused:
        choose_endpoint(settings_for(url), None, KEY)
    message = str(refused.value)
    assert message.startswith(
        f"refusing to send the API key unencrypted to {url} (plain http to another machine): "
    )
    assert "https://" in message  # names the fix
    assert "\n" not in message and KEY not in message


@pytest.mark.parametrize("url", [*LOOPBACK_URLS, "https://192.168.1.20/v1", "https://ai.lan/v1"])
def test_a_key_goes_over_https_or_to_this_machine(url: str) -> None:
    assert choose_endpoint(compatible(url), None, KEY) == (url, KEY)
    assert choose_endpoint(openai_via(url), None, KEY) == (url, KEY)


@pytest.mark.parametrize("url", LAN_URLS)
def test_a_keyless_server_on_the_lan_is_reached_without_a_key(url: str) -> None:
    for no_key in (None, ""):
        assert choose_endpoint(compatible(url), None, no_key) == (url, NO_KEY)


def test_openai_without_a_base_url_is_api_openai_com_and_the_demo_model_keeps_working() -> None:
    assert choose_endpoint(Settings(provider="openai"), None, KEY) == (OPENAI_BASE_URL, KEY)
    demo = "http://127.0.0.1:43210/v1"
    assert choose_endpoint(Settings(), demo, None) == (demo, "demo")
    assert choose_endpoint(Settings(), demo, KEY) == (demo, "demo")  # never the user's key


def test_a_malformed_openai_proxy_url_is_named() -> None:
    with pytest.raises(EndpointError, match=r"^the base URL 'ftp://proxy/v1' is not an http\(s\)"):
        choose_endpoint(openai_via("ftp://proxy/v1"), None, KEY)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.255.0.1", "::1", "localhost", "LocalHost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.0.1", "::", "fe80::1", "local", "127.1"])
def test_other_hosts(host: str) -> None:
    assert not is_loopback_host(host)  # "127.1": not spelled as the rule knows, so refused


# -- a provider switch ----------------------------------------------------------------


def test_switching_provider_drops_the_other_providers_base_url_and_model(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    lan = "http://192.168.1.20:11434/v1"
    save_choices(data, "openai-compatible", lan, "llama3.2")
    saved = save_choices(data, "openai", None, None)
    assert (saved.provider, saved.base_url, saved.model) == ("openai", None, None)
    assert Settings.load(data.settings_file) == saved
    # What the next reply would use: api.openai.com, not the LAN server.
    assert choose_endpoint(saved, None, KEY) == (OPENAI_BASE_URL, KEY)


def test_choices_for_the_same_provider_keep_the_rest(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    save_choices(data, "openai-compatible", "http://127.0.0.1:11434/v1", "llama3.2")
    kept = save_choices(data, "openai-compatible", None, "qwen3")
    assert (kept.base_url, kept.model) == ("http://127.0.0.1:11434/v1", "qwen3")
    # A base URL given with the switch is the new provider's own.
    proxy = save_choices(data, "openai", "https://proxy.example/v1", None)
    assert (proxy.provider, proxy.base_url, proxy.model) == (
        "openai",
        "https://proxy.example/v1",
        None,
    )
