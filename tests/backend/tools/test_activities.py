"""The tool activity turns every tool failure and malformed call into an error the model sees."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from backend.local.settings import Settings
from backend.tools import activities
from backend.tools.activities import ToolActivities, ToolInvocation, ToolOutcome

_TOOLS: ToolActivities | None = None


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    """A granted folder, and tool activities that need no Redis (nothing is published)
    and no store (no output here is large enough for one)."""
    global _TOOLS
    folder = tmp_path / "granted"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    _TOOLS = ToolActivities(None, lambda: Settings(granted_folder=str(folder)), None)
    return folder


def run(name: str, arguments: str) -> ToolOutcome:
    assert _TOOLS is not None, "use the granted fixture"
    call = ToolInvocation(call_id="call_1", name=name, arguments=arguments)
    return asyncio.run(ActivityEnvironment().run(_TOOLS.run_tool, call))


def test_a_good_call_has_an_output(granted: Path) -> None:
    outcome = run("calculator", json.dumps({"expression": "12*7"}))
    assert (outcome.output, outcome.error) == ("84", None)
    assert run("read_file", '{"path": "notes.txt"}').output == "hello"
    assert run("current_time", "{}").error is None


def test_an_optional_argument_may_be_null_or_missing(granted: Path) -> None:
    assert run("list_files", '{"path": null}').output == "notes.txt (5 bytes)"
    assert run("list_files", "{}").output == "notes.txt (5 bytes)"
    assert run("current_time", '{"timezone": null}').error is None


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("calculator", '{"expression": "abs(1,2)"}', "takes 1 argument"),
        ("calculator", '{"expression": "sqrt()"}', "takes 1 argument"),
        ("calculator", '{"expression": "10**5000 + round(1.5, 0.5)"}', "cannot compute"),
        ("calculator", '{"expression": "2**(10**200)"}', "bits"),
        ("read_file", '{"path": "a\\u0000b"}', "NUL"),
        ("list_files", '{"path": "a\\u0000b"}', "NUL"),
        ("read_file", '{"path": "../../etc/passwd"}', "outside the granted folder"),
        ("current_time", '{"timezone": "Mars/Olympus"}', "unknown time zone"),
        ("nope", "{}", "no tool named"),
    ],
)
def test_a_tool_failure_is_the_outcome_error(
    granted: Path, name: str, arguments: str, message: str
) -> None:
    _assert_outcome_error(name, arguments, message)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("calculator", "[1, 2]", "not a JSON object"),
        ("calculator", '"12*7"', "not a JSON object"),
        ("calculator", "{not json", "not valid JSON"),
        ("calculator", "[" * 100_000, "not valid JSON"),  # deeper than the recursion limit
        ("calculator", '{"expression": 1' + "0" * 5000 + "}", "not valid JSON"),  # int limit
        ("calculator", "{}", "'expression' must be a string, got nothing"),
        ("calculator", '{"expression": 12}', "'expression' must be a string, got a JSON number"),
        ("read_file", '{"path": null}', "'path' must be a string, got a JSON null"),
        ("read_file", '{"path": ["notes.txt"]}', "got a JSON array"),
        ("list_files", '{"path": {"a": 1}}', "got a JSON object"),
        ("current_time", '{"timezone": true}', "got a JSON boolean"),
    ],
)
def test_a_malformed_call_is_the_outcome_error(
    granted: Path, name: str, arguments: str, message: str
) -> None:
    _assert_outcome_error(name, arguments, message)


def _assert_outcome_error(name: str, arguments: str, message: str) -> None:
    """The call ends as an outcome the model reads, not as a failed activity."""
    outcome = run(name, arguments)
    assert outcome.output is None
    assert message in (outcome.error or "")


def test_a_real_bug_still_fails_the_activity(
    granted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError("a bug in a tool")

    monkeypatch.setattr(activities, "_dispatch", broken)
    with pytest.raises(RuntimeError, match="a bug in a tool"):
        run("calculator", '{"expression": "1"}')
