"""MCP servers in real use: the test server over stdio and over streamable HTTP, both
configured on one running backend, called from turns the demo model forces.

Both servers offer the same tools, so every MCP tool here carries its server's
prefix (``files__echo``, ``web__echo``): the clash rule under test too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.mcp.secrets import set_secret
from backend.workflows.conversation_types import ToolCallRecord
from tests.support.chat import record_turn, with_client
from tests.support.mcp_setup import (
    HttpServer,
    cli,
    cli_json,
    send_process,
    stdio_server,
    write_mcp_json,
)
from tests.support.serve_process import REPO_ROOT, ServeProcess, wait_until

FILES_TOKEN = "files-token-" + hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:20]
WEB_TOKEN = "web-token-" + hashlib.sha256(str(time.time_ns() + 1).encode()).hexdigest()[:20]


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("marks")


@pytest.fixture(scope="module")
def mcp_backend(tmp_path_factory: pytest.TempPathFactory, marks: Path) -> Iterator[ServeProcess]:
    set_secret("files-token", FILES_TOKEN)
    set_secret("web-token", WEB_TOKEN)
    http = HttpServer(marks)
    data_dir = tmp_path_factory.mktemp("mcp") / "data"
    files = stdio_server(marks, timeout=3)
    files["env"]["FILES_TOKEN"] = "keyring:files-token"
    write_mcp_json(
        data_dir,
        {"files": files, "web": {"url": http.url, "headers": {"X-Token": "keyring:web-token"}}},
    )
    sp = ServeProcess(data_dir, args=["--demo-tokens-per-second", "0"])
    sp.start()
    yield sp
    sp.close()
    http.close()


def turn(sp: ServeProcess, text: str, timeout: float = 90):  # type: ignore[no-untyped-def]
    return with_client(sp.data_dir, lambda c: record_turn(c, text), timeout=timeout).turn


def call_of(t, name: str) -> ToolCallRecord:  # type: ignore[no-untyped-def]
    return next(c for c in t.tool_calls if c.name == name)


def test_both_servers_are_ready_with_their_tools_and_policies(mcp_backend: ServeProcess) -> None:
    servers = {s["name"]: s for s in cli_json(mcp_backend.data_dir, "mcp", "list")}
    assert set(servers) == {"files", "web"}
    for server in servers.values():
        assert server["status"] == "ready", server
        assert {"echo", "append_line", "hang"} <= {t["name"] for t in server["tools"]}
    tools = {t["name"]: t for t in cli_json(mcp_backend.data_dir, "tools")}
    assert tools["calculator"] == {**tools["calculator"], "source": "builtin", "policy": "allow"}
    assert tools["read_file"]["policy"] == "ask"
    assert tools["files__echo"]["source"] == "files"
    assert tools["files__echo"]["policy"] == "allow"  # readOnlyHint
    assert tools["web__append_line"]["source"] == "web"
    assert tools["web__append_line"]["policy"] == "ask"  # may change things
    assert "echo" not in tools  # two servers offer it: each keeps its prefix


def test_a_turn_calls_a_stdio_tool_and_an_http_tool(mcp_backend: ServeProcess) -> None:
    t = turn(
        mcp_backend,
        'two [demo tool=files__echo:{"text": "from stdio"} tool=web__add:{"a": 2, "b": 3.5}]',
    )
    assert t.status == "done"
    echo, add = call_of(t, "files__echo"), call_of(t, "web__add")
    assert (echo.server, echo.status, echo.output) == ("files", "done", "from stdio")
    assert (add.server, add.status, add.output) == ("web", "done", "5.5")
    assert "from stdio" in t.reply and "5.5" in t.reply


def test_keyring_secrets_reach_the_servers_and_no_file(mcp_backend: ServeProcess) -> None:
    t = turn(
        mcp_backend,
        "secrets [demo tool=files__env_digest:{"
        '"name": "FILES_TOKEN"} tool=web__header_digest:{"name": "X-Token"}]',
    )
    assert (
        call_of(t, "files__env_digest").output == hashlib.sha256(FILES_TOKEN.encode()).hexdigest()
    )
    assert call_of(t, "web__header_digest").output == hashlib.sha256(WEB_TOKEN.encode()).hexdigest()
    # Not the worker's environment: a server gets only its own env and a safe few.
    home = turn(
        mcp_backend, 'env [demo tool=files__env_value:{"name": "DURACHAT_TEST_KEYRING_FILE"}]'
    )
    assert call_of(home, "files__env_value").output == "<unset>"
    for path in mcp_backend.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert FILES_TOKEN.encode() not in data, path
            assert WEB_TOKEN.encode() not in data, path
    assert "keyring:files-token" in (mcp_backend.data_dir / "mcp.json").read_text()


def _killed_mid_call(sp: ServeProcess, marks: Path, tool: str, marker: str, arg: str):  # type: ignore[no-untyped-def]
    """Send a turn calling ``tool``, SIGKILL the server once the call has begun, and
    return the finished turn and the killed server's pid."""
    started = marks / marker
    started.unlink(missing_ok=True)
    proc = send_process(sp.data_dir, f"kill [demo tool={tool}:{{{arg}}}]", "--json")
    wait_until(started.exists, 30, what=f"{tool} to start")
    pid = int(started.read_text())
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    history = with_client(sp.data_dir, lambda c: c.history(_conversation(out)))
    return history.turns[-1], pid


def _conversation(json_lines: str) -> str:
    return json.loads(json_lines.splitlines()[0])["conversation_id"]


def test_a_side_effecting_call_cut_by_a_crash_is_not_run_again(
    mcp_backend: ServeProcess, marks: Path
) -> None:
    assert cli(mcp_backend.data_dir, "tools", "set", "files__slow_append", "allow").returncode == 0
    t, _ = _killed_mid_call(
        mcp_backend, marks, "files__slow_append", "slow_append.started", '"text": "cut"'
    )
    call = call_of(t, "files__slow_append")
    assert t.status == "done"
    assert call.status == "error"
    assert "stopped during the call" in (call.error or "")
    assert "not tried again" in (call.error or "")
    assert "cut" not in _lines(marks / "appended.txt")
    # The server is started again for the next call.
    assert cli(mcp_backend.data_dir, "tools", "set", "files__append_line", "allow").returncode == 0
    after = turn(mcp_backend, 'again [demo tool=files__append_line:{"text": "after-crash"}]')
    assert call_of(after, "files__append_line").status == "done"
    assert _lines(marks / "appended.txt").count("after-crash") == 1


def test_a_read_only_call_cut_by_a_crash_is_retried_on_a_new_server(
    mcp_backend: ServeProcess, marks: Path
) -> None:
    t, pid = _killed_mid_call(
        mcp_backend, marks, "files__slow_lookup", "slow_lookup.started", '"key": "k1"'
    )
    call = call_of(t, "files__slow_lookup")
    assert (call.status, call.output) == ("done", "value of k1")
    lookups = _lines(marks / "lookups.txt")
    assert len(lookups) == 2  # the cut call, and its retry on a new server process
    assert lookups[0].endswith(str(pid)) and not lookups[1].endswith(str(pid))


def test_a_hanging_call_fails_in_time_and_the_server_goes_on(mcp_backend: ServeProcess) -> None:
    assert cli(mcp_backend.data_dir, "tools", "set", "files__hang", "allow").returncode == 0
    began = time.monotonic()
    t = turn(mcp_backend, "hang [demo tool=files__hang:{}]")
    call = call_of(t, "files__hang")
    assert t.status == "done"
    assert call.status == "error" and "did not answer in time" in (call.error or "")
    assert time.monotonic() - began < 30  # the server's timeout is 3 s
    echo = turn(mcp_backend, 'echo [demo tool=files__echo:{"text": "still here"}]')
    assert call_of(echo, "files__echo").output == "still here"


def test_a_server_that_cannot_start_is_reported_and_chats_go_on(
    mcp_backend: ServeProcess, marks: Path
) -> None:
    added = cli(
        mcp_backend.data_dir,
        "mcp",
        "add",
        "broken",
        "--env",
        f"PYTHONPATH={REPO_ROOT}",
        "--",
        sys.executable,
        "-m",
        "tests.support.mcp_server",
        "--transport",
        "stdio",
        "--marker-dir",
        str(marks),
        "--fail-start",
        "no API token configured",
    )
    assert added.returncode == 0, added.stderr
    try:
        servers = {s["name"]: s for s in cli_json(mcp_backend.data_dir, "mcp", "list")}
        broken = servers["broken"]
        assert broken["status"] == "failed"
        assert any("no API token configured" in line for line in broken["stderr"]), broken
        assert servers["files"]["status"] == "ready"
        t = turn(mcp_backend, 'sum [demo tool=calculator:{"expression": "6*7"}]')
        assert t.status == "done" and "42" in t.reply
    finally:
        assert cli(mcp_backend.data_dir, "mcp", "remove", "broken").returncode == 0
    assert "broken" not in {s["name"] for s in cli_json(mcp_backend.data_dir, "mcp", "list")}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_stop_cancels_an_mcp_call_and_the_call_says_so(
    mcp_backend: ServeProcess, marks: Path
) -> None:
    assert cli(mcp_backend.data_dir, "tools", "set", "files__hang", "allow").returncode == 0
    started = marks / "hang.started"
    started.unlink(missing_ok=True)

    async def stop_mid_call(client):  # type: ignore[no-untyped-def]
        sent = await client.send("hang [demo tool=files__hang:{}]")
        while not started.exists():  # the server has the call
            await asyncio.sleep(0.01)
        stopped_at = time.monotonic()
        await client.stop(sent.conversation_id, sent.message_id)
        async for item in client.follow_turn(sent.conversation_id, sent.message_id):
            if not hasattr(item, "type"):
                return item.turns[-1], time.monotonic() - stopped_at
        raise AssertionError("the turn never ended")

    t, took = with_client(mcp_backend.data_dir, stop_mid_call)
    assert took < 2  # well before the server's 3 s timeout
    assert t.status == "stopped"
    (call,) = t.tool_calls
    assert (call.status, call.error, call.server) == ("error", "stopped", "files")
