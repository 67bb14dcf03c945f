"""Provider faults through the demo model: each turn ends clearly and loses nothing.

Every fault runs on the real backend, in its own conversation, followed by a next
message in the same conversation that must be answered normally. The faulty turns
run side by side (one backend, one gather) so the slow ones (a hang waits out the
timeout on every attempt) overlap instead of adding up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from backend.client.api import DuraChatClient
from backend.demo_model.script import counted_tokens
from backend.local.settings import Settings
from backend.models.streaming_model import EMPTY_REPLY_ATTEMPTS, TIMEOUT_ATTEMPTS
from backend.worker.main import MODEL_PARAMS
from tests.support.chat import TurnRecording, record_turn, with_client
from tests.support.serve_process import ServeProcess

TIMEOUT_S = 2.0  # request_timeout_s for this module: a hang is noticed quickly
MAX_ATTEMPTS = MODEL_PARAMS.retry_policy.maximum_attempts if MODEL_PARAMS.retry_policy else 1
TOKENS = 30
FAULT_AT = 10  # tokens streamed before a mid-stream fault strikes

SCENARIOS = {
    "hang_recovers": f"[demo tokens={TOKENS} fault=hang@{FAULT_AT}x1]",
    "hang_persists": f"[demo tokens={TOKENS} fault=hang@{FAULT_AT}]",
    "malformed_recovers": f"[demo tokens={TOKENS} fault=malformed@{FAULT_AT}x1]",
    "malformed_persists": f"[demo tokens={TOKENS} fault=malformed@{FAULT_AT}]",
    "empty_recovers": f"[demo tokens={TOKENS} fault=emptyx1]",
    "empty_persists": f"[demo tokens={TOKENS} fault=empty]",
    "rate_limit_persists": "[demo tokens=5 fault=429:0.1]",
    "server_error_persists": "[demo tokens=5 fault=500]",
}
NEXT = "[demo tokens=6] and now?"


def words(n: int) -> str:
    return "".join(counted_tokens(n))


@dataclass
class Outcome:
    faulty: TurnRecording
    next: TurnRecording


@pytest.fixture(scope="module")
def outcomes(backend: ServeProcess) -> Iterator[dict[str, Outcome]]:
    settings_file = backend.data_dir / "settings.json"
    Settings(request_timeout_s=TIMEOUT_S).save(settings_file)

    async def one(client: DuraChatClient, text: str) -> Outcome:
        faulty = await record_turn(client, text)
        after = await record_turn(client, NEXT, faulty.conversation_id)
        return Outcome(faulty, after)

    async def all_of_them(client: DuraChatClient) -> dict[str, Outcome]:
        results = await asyncio.gather(*(one(client, text) for text in SCENARIOS.values()))
        return dict(zip(SCENARIOS, results, strict=True))

    try:
        yield with_client(backend.data_dir, all_of_them, timeout=120)
    finally:
        Settings().save(settings_file)


def attempts(rec: TurnRecording) -> list[tuple[int, bool]]:
    return [(e.attempt, e.retry) for e in rec.of_type("attempt_started")]


def announced(n: int) -> list[tuple[int, bool]]:
    """What ``attempt_started`` says over n attempts: the first, then n - 1 retries."""
    return [(i, i > 1) for i in range(1, n + 1)]


def assert_kept_and_usable(name: str, outcome: Outcome) -> None:
    """The user's message stays, and the conversation answers the next message."""
    faulty, after = outcome.faulty, outcome.next
    assert faulty.turn.user_text == SCENARIOS[name]
    assert after.turn.status == "done", after.turn.error
    assert after.turn.reply == words(6)
    assert after.rebuilt().text == words(6)
    assert after.view is not None
    assert [t.user_text for t in after.view.turns] == [SCENARIOS[name], NEXT]


def assert_recovered(name: str, outcome: Outcome, attempts_needed: int = 2) -> None:
    rec = outcome.faulty
    assert rec.turn.status == "done", rec.turn.error
    assert rec.turn.error is None
    assert rec.turn.reply == words(TOKENS)  # once, whole
    assert rec.rebuilt().text == rec.turn.reply  # the live view dropped the failed attempt
    assert attempts(rec) == announced(attempts_needed)
    # Only the demo model's own tokens ever reached the screen, from any attempt.
    assert {e.text for e in rec.of_type("text_delta")} <= set(counted_tokens(TOKENS))
    (done,) = rec.of_type("message_done")
    assert done.text == rec.turn.reply and done.attempt == attempts_needed
    assert_kept_and_usable(name, outcome)


def assert_failed(name: str, outcome: Outcome, kind: str, attempts_made: int) -> str:
    """A failed turn: it says so in words, claims no reply, and announced every retry."""
    rec = outcome.faulty
    assert rec.turn.status == "failed"
    assert rec.turn.error is not None and rec.turn.error.kind == kind
    assert rec.turn.reply == ""
    assert attempts(rec) == announced(attempts_made)
    # A turn_failed event, when the live view got it first, says the same as the history.
    for failed in rec.of_type("turn_failed"):
        assert (failed.kind, failed.message) == (kind, rec.turn.error.message)
    assert_kept_and_usable(name, outcome)
    return rec.turn.error.message


def test_a_hang_is_retried_and_recovers(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["hang_recovers"]
    assert_recovered("hang_recovers", outcome)
    # The first attempt really was cut off by the timeout, after what it had shown.
    first = [e.text for e in outcome.faulty.of_type("text_delta") if e.attempt == 1]
    assert "".join(first) == words(FAULT_AT)


def test_a_model_that_keeps_hanging_fails_as_a_timeout(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["hang_persists"]
    message = assert_failed("hang_persists", outcome, "timeout", TIMEOUT_ATTEMPTS)
    assert message.startswith("the model stopped answering")
    assert f"{TIMEOUT_S:g} s" in message
    faulty = outcome.faulty.turn
    assert faulty.error is not None and faulty.error.retryable  # sending again may work
    # Each attempt streamed the same start; the live view shows it once, not five times.
    assert outcome.faulty.rebuilt().text == words(FAULT_AT)


def test_a_malformed_stream_line_is_retried_without_garbage(
    outcomes: dict[str, Outcome],
) -> None:
    assert_recovered("malformed_recovers", outcomes["malformed_recovers"])


def test_a_stream_that_stays_malformed_fails_clearly(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["malformed_persists"]
    message = assert_failed("malformed_persists", outcome, "provider_error", MAX_ATTEMPTS)
    assert "malformed reply" in message
    assert outcome.faulty.rebuilt().text == words(FAULT_AT)
    assert {e.text for e in outcome.faulty.of_type("text_delta")} <= set(counted_tokens(TOKENS))


def test_an_empty_reply_is_retried(outcomes: dict[str, Outcome]) -> None:
    assert_recovered("empty_recovers", outcomes["empty_recovers"])


def test_a_reply_that_stays_empty_is_not_a_silent_success(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["empty_persists"]
    message = assert_failed("empty_persists", outcome, "provider_error", EMPTY_REPLY_ATTEMPTS)
    assert message.startswith("the model returned an empty reply")
    faulty = outcome.faulty.turn
    assert faulty.error is not None and faulty.error.retryable
    assert outcome.faulty.of_type("message_done") == []


def test_a_rate_limit_that_persists_says_to_wait(outcomes: dict[str, Outcome]) -> None:
    message = assert_failed(
        "rate_limit_persists", outcomes["rate_limit_persists"], "rate_limited", MAX_ATTEMPTS
    )
    assert "rate limit" in message and "HTTP 429" in message
    assert "wait" in message and "plan" in message


def test_a_server_error_that_persists_names_the_status(outcomes: dict[str, Outcome]) -> None:
    message = assert_failed(
        "server_error_persists", outcomes["server_error_persists"], "provider_error", MAX_ATTEMPTS
    )
    assert message.startswith("the provider had a server error")
    assert "HTTP 500" in message
