"""``durachat send``, ``history`` and ``list`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from backend.demo_model.script import counted_tokens
from tests.support.serve_process import ServeProcess, child_env, durachat_argv, wait_until


def durachat(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*durachat_argv(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )


def test_send_streams_the_reply_and_history_agrees(serve: ServeProcess, data_dir: Path) -> None:
    serve.start()
    d = ["--data-dir", str(data_dir)]
    first = durachat("send", *d, "what is 6*7?")
    assert first.returncode == 0, first.stderr
    assert "42" in first.stdout
    assert "[tool calculator" in first.stderr  # tool calls go to stderr
    conversation = first.stderr.split("conversation: ")[1].split()[0]

    second = durachat("send", *d, "--conversation", conversation, "--json", "[demo tokens=8]")
    assert second.returncode == 0, second.stderr
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    assert lines[0]["type"] == "sent" and lines[0]["conversation_id"] == conversation
    deltas = "".join(e["text"] for e in lines if e["type"] == "text_delta")
    assert deltas == "".join(counted_tokens(8))
    assert lines[-1] == {
        "type": "result",
        "status": "done",
        "reply": deltas,
        "conversation_id": conversation,
    }

    history = durachat("history", *d, "--conversation", conversation, "--json")
    view = json.loads(history.stdout)
    assert [t["user_text"] for t in view["turns"]] == ["what is 6*7?", "[demo tokens=8]"]
    assert view["turns"][1]["reply"] == deltas
    assert view["turns"][0]["tool_calls"][0]["output"] == "42"

    listing = json.loads(durachat("list", *d, "--json").stdout)
    assert [c["conversation_id"] for c in listing] == [conversation]


def test_send_starts_a_backend_for_the_call(tmp_path: Path) -> None:
    result = durachat("send", "--data-dir", str(tmp_path / "d"), "[demo tokens=3]")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "w1 w2 w3 \n"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "d" / "runtime.json").exists()  # and stopped it afterwards


def test_user_errors_are_one_clear_line(serve: ServeProcess, data_dir: Path) -> None:
    serve.start()
    d = ["--data-dir", str(data_dir)]
    empty = durachat("send", *d, "   ")
    assert empty.returncode == 2 and empty.stderr == "durachat: not sent: the message is empty\n"
    missing = durachat("history", *d, "--conversation", "conversation-nope", "--json")
    assert missing.returncode == 1
    assert missing.stderr.startswith("durachat: no such conversation")
    failed = durachat("send", *d, "[demo tokens=3 fault=401]")
    assert failed.returncode == 1
    assert "durachat: the reply failed: the provider rejected the API key" in failed.stderr
    assert "Traceback" not in empty.stderr + missing.stderr + failed.stderr


def test_a_reader_that_stops_early_gets_no_error_and_the_reply_is_kept(
    serve: ServeProcess, data_dir: Path
) -> None:
    """``durachat send ... | head``: the pipe closes before the reply is printed."""
    serve.start()
    d = ["--data-dir", str(data_dir)]
    send = subprocess.Popen(
        [*durachat_argv(), "send", *d, "[demo tokens=50]"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert send.stdout is not None and send.stderr is not None
    send.stdout.close()  # the reader is gone before the first token
    stderr = send.stderr.read()
    assert send.wait(120) == 1
    # Only the conversation's id: no "Broken pipe", no traceback.
    assert stderr.startswith("conversation: ") and len(stderr.splitlines()) == 1, stderr
    conversation = stderr.split()[1]

    # The reply went on in the backend; listing to a closed pipe is as quiet.
    def ended_turn() -> dict | None:
        history = durachat("history", *d, "--conversation", conversation, "--json")
        turn = json.loads(history.stdout)["turns"][0]
        return None if turn["status"] in ("queued", "running") else turn

    turn = wait_until(ended_turn, 60, interval=0.2, what="the reply's end")
    assert turn["status"] == "done" and turn["reply"] == "".join(counted_tokens(50))
    listing = subprocess.Popen(
        [*durachat_argv(), "list", *d],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()
    assert listing.stderr.read() == b""
    assert listing.wait(60) == 1
