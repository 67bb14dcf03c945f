"""mcp.json: the mcpServers format read as users paste it, checked entry by entry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from backend.mcp.config import (
    HttpServer,
    McpConfigError,
    StdioServer,
    add_server,
    config_hash,
    load,
    remove_server,
    secret_references,
)
from backend.mcp.status import ServerStatus, current, read_statuses, write_statuses


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_block_pasted_from_a_readme_is_read_with_extra_keys_ignored(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path / "mcp.json",
            {
                "mcpServers": {
                    "files": {
                        "type": "stdio",
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                        "env": {"TOKEN": "keyring:files-token"},
                        "autoApprove": [],
                    },
                    "search": {"url": "https://example.com/mcp", "headers": {"X-Key": "v"}},
                }
            },
        )
    )
    assert config.problems == {}
    files, search = config.servers["files"], config.servers["search"]
    assert isinstance(files, StdioServer) and files.args[0] == "-y"
    assert isinstance(search, HttpServer) and search.headers == {"X-Key": "v"}
    assert secret_references(files) == ["files-token"]
    assert files.timeout == 60.0


@pytest.mark.parametrize(
    ("name", "entry", "problem"),
    [
        ("bad name!", {"command": "x"}, "a server name is 1 to 32 letters"),
        ("both", {"command": "x", "url": "http://h/mcp"}, "not both"),
        ("neither", {"args": []}, 'needs a "command"'),
        ("sse", {"type": "sse", "url": "http://h/sse"}, "SSE servers are not supported"),
        ("ftp", {"url": "ftp://h/mcp"}, "url: the url must start with http"),
        ("env", {"command": "x", "env": {"1X": "v"}}, "is not an environment variable name"),
        ("ref", {"command": "x", "env": {"K": "keyring:no spaces"}}, "keyring reference"),
        ("args", {"command": "x", "args": "one string"}, "args"),
        ("slow", {"command": "x", "timeout": 0}, "timeout"),
    ],
)
def test_a_malformed_entry_is_reported_by_name_and_the_others_still_load(
    tmp_path: Path, name: str, entry: dict, problem: str
) -> None:
    config = load(
        write(tmp_path / "mcp.json", {"mcpServers": {name: entry, "good": {"command": "ok"}}})
    )
    assert list(config.servers) == ["good"]
    assert problem in config.problems[name]
    (status,) = [s for s in current(config, {}) if s.name == name]
    assert status.status == "failed" and problem in (status.error or "")


@pytest.mark.parametrize("text", ["{not json", "[]", '{"mcpServers": []}'])
def test_a_file_that_is_not_a_configuration_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(text)
    with pytest.raises(McpConfigError) as caught:
        load(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_no_file_means_no_servers(tmp_path: Path) -> None:
    assert load(tmp_path / "mcp.json").servers == {}


def test_add_and_remove_keep_everything_else_and_the_file_private(tmp_path: Path) -> None:
    path = write(tmp_path / "mcp.json", {"other": 1, "mcpServers": {"a": {"command": "x"}}})
    add_server(path, "b", {"url": "http://127.0.0.1:1/mcp"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = json.loads(path.read_text())
    assert raw["other"] == 1 and set(raw["mcpServers"]) == {"a", "b"}
    with pytest.raises(ValueError, match="not both"):
        add_server(path, "c", {"command": "x", "url": "http://h/mcp"})
    assert set(json.loads(path.read_text())["mcpServers"]) == {"a", "b"}
    assert remove_server(path, "a") and not remove_server(path, "a")
    assert set(json.loads(path.read_text())["mcpServers"]) == {"b"}


def test_a_status_counts_only_for_the_configuration_it_was_checked_with(tmp_path: Path) -> None:
    path = write(tmp_path / "mcp.json", {"mcpServers": {"a": {"command": "x"}}})
    config = load(path)
    checked = ServerStatus(name="a", status="ready", config_hash=config_hash(config.servers["a"]))
    write_statuses(tmp_path / "status.json", {"a": checked})
    assert current(config, read_statuses(tmp_path / "status.json"))[0].status == "ready"
    add_server(path, "a", {"command": "x", "args": ["--changed"]})
    assert current(load(path), read_statuses(tmp_path / "status.json"))[0].status == "starting"
    add_server(path, "a", {"command": "x", "disabled": True})
    assert current(load(path), {})[0].status == "disabled"
    (tmp_path / "status.json").write_text("damaged")
    assert read_statuses(tmp_path / "status.json") == {}


def test_a_message_carries_the_ready_servers_and_none_while_one_is_checked(
    tmp_path: Path,
) -> None:
    from backend.tools.setup import setup_from_files

    path = write(
        tmp_path / "mcp.json",
        {
            "mcpServers": {
                "a": {"command": "x", "timeout": 5},
                "off": {"command": "y", "disabled": True},
            }
        },
    )
    config = load(path)
    digest = config_hash(config.servers["a"])
    assert setup_from_files(config, {}, {}) is None  # "a" is not checked yet: the worker decides
    ready = {"a": ServerStatus(name="a", status="ready", config_hash=digest)}
    setup = setup_from_files(config, ready, {"echo": "deny"})
    assert setup is not None
    assert [(s.name, s.config_hash, s.timeout_s) for s in setup.servers] == [("a", digest, 5.0)]
    assert setup.policies == {"echo": "deny"}
    failed = {"a": ServerStatus(name="a", status="failed", config_hash=digest)}
    assert setup_from_files(config, failed, {}).servers == []  # type: ignore[union-attr]
