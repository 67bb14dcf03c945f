"""``check_connection`` against a real demo model and real sockets: one sentence, never a
traceback, never the key."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator

import pytest

from backend.local.settings import OPENAI_BASE_URL, Settings
from backend.models.connection_check import ConnectionResult, check_connection
from backend.models.endpoint import EndpointError, choose_endpoint
from tests.support.demo_model_process import demo_model

KEY = f"sk-test-{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with demo_model("--tokens-per-second", "0") as url:
        yield url


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    with demo_model("--require-key-env", "DEMO_REQUIRED_KEY", DEMO_REQUIRED_KEY=KEY) as url:
        yield url


def check(
    settings: Settings, key: str | None = None, demo: str | None = None, timeout_s: float = 10
) -> ConnectionResult:
    return asyncio.run(check_connection(settings, key, demo, timeout_s=timeout_s))


def compatible(base_url: str, model: str = "durachat-demo") -> Settings:
    return Settings(provider="openai-compatible", base_url=base_url, model=model)


def test_the_demo_model_answers(demo_url: str) -> None:
    result = check(Settings(), demo=demo_url)
    assert result.ok
    assert result.message.startswith(f"Connected to {demo_url} in ")
    assert result.message.endswith("; the model 'durachat-demo' is available.")
    assert result.latency_ms is not None and result.latency_ms > 0


def test_the_right_key_passes_and_a_wrong_one_is_named_without_showing_it(
    keyed_url: str,
) -> None:
    assert check(compatible(keyed_url), KEY).ok
    wrong = f"sk-wrong-{secrets.token_hex(16)}"
    result = check(compatible(keyed_url), wrong)
    assert not result.ok
    assert result.message == f"{keyed_url} rejected the API key (401 Unauthorized); check the key."
    no_key = check(compatible(keyed_url), None)
    assert not no_key.ok and "rejected the API key" in no_key.message


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = check(compatible(url), KEY)
    assert result == ConnectionResult(
        False,
        f"Could not reach {url}: the connection was refused (is the server running on that port?).",
    )


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # connections complete in the backlog; nothing ever replies
        url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
        result = check(compatible(url), KEY, timeout_s=0.5)
    assert result == ConnectionResult(False, f"{url} did not answer within 0.5 s.")


def test_a_base_url_without_v1_is_a_404_with_a_hint(demo_url: str) -> None:
    root = demo_url.removesuffix("/v1")
    result = check(compatible(root))
    assert not result.ok
    assert result.message == (
        f"{root} has no model list (404 Not Found); check the base URL (it usually ends in /v1)."
    )


def test_a_model_the_server_lacks_is_named_with_what_it_offers(keyed_url: str) -> None:
    result = check(compatible(keyed_url, model="llama3.2"), KEY)
    assert not result.ok
    assert "does not offer the model 'llama3.2' (it offers durachat-demo)" in result.message
    assert result.message.startswith(f"{keyed_url} answered in ")


def test_a_key_no_http_header_can_carry_is_refused_without_showing_it(keyed_url: str) -> None:
    result = check(compatible(keyed_url), "sk-ключ")
    assert result == ConnectionResult(
        False, f"The API key for {keyed_url} has characters an HTTP header cannot carry."
    )


@pytest.mark.parametrize(
    ("settings", "demo", "message"),
    [
        (Settings(), None, "The demo model is not running in this backend."),
        (Settings(provider="openai"), None, "No OpenAI API key is set: add one in Settings."),
        (
            Settings(provider="openai-compatible"),
            None,
            "No base URL is set for the OpenAI-compatible server.",
        ),
        (
            compatible("localhost:11434"),
            None,
            "The base URL 'localhost:11434' is not an http(s) URL, e.g. http://127.0.0.1:11434/v1.",
        ),
    ],
)
def test_settings_that_name_no_endpoint_say_what_to_fix(
    settings: Settings, demo: str | None, message: str
) -> None:
    assert check(settings, demo=demo) == ConnectionResult(False, message)


def test_the_endpoint_is_the_one_the_worker_would_use() -> None:
    assert choose_endpoint(Settings(), "http://127.0.0.1:9/v1", None) == (
        "http://127.0.0.1:9/v1",
        "demo",
    )
    assert choose_endpoint(Settings(provider="openai"), None, KEY) == (OPENAI_BASE_URL, KEY)
    proxy = Settings(provider="openai", base_url="https://proxy.example/v1")
    assert choose_endpoint(proxy, None, KEY) == ("https://proxy.example/v1", KEY)
    # Local servers need no key; the client still wants one.
    assert choose_endpoint(compatible("http://127.0.0.1:11434/v1"), None, None) == (
        "http://127.0.0.1:11434/v1",
        "not-needed",
    )
    with pytest.raises(EndpointError, match="no OpenAI API key"):
        choose_endpoint(Settings(provider="openai"), None, "")
