"""Each MCP server's status and tools as last checked: ``<data dir>/mcp_status.json``.

The worker checks every configured server when it starts and whenever mcp.json
changes (``probe.py``: start it, list its tools, stop it) and writes what it found here;
``durachat mcp list``, ``durachat tools``, ``doctor`` and the window read it. An
entry is current only while its ``config_hash`` matches the server's entry in
mcp.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from backend.local.private_files import write_private
from backend.mcp.config import McpConfig, config_hash
from backend.tools.offer import McpTool

Status = Literal["ready", "failed", "disabled", "starting"]


class ServerStatus(BaseModel):
    name: str
    status: Status
    tools: list[McpTool] = Field(default_factory=list)
    error: str | None = None  # one line: why it cannot be used
    stderr: list[str] = Field(default_factory=list)  # the last lines a stdio server wrote
    config_hash: str = ""
    checked_at: float = 0.0


class _Board(BaseModel):
    servers: dict[str, ServerStatus] = Field(default_factory=dict)


def read_statuses(path: Path) -> dict[str, ServerStatus]:
    """What the last check found; nothing when there was none (or it is unreadable:
    the next check writes it again)."""
    try:
        return _Board.model_validate_json(path.read_bytes()).servers
    except (OSError, ValidationError, ValueError):
        return {}


def write_statuses(path: Path, statuses: dict[str, ServerStatus]) -> None:
    write_private(path, _Board(servers=statuses).model_dump_json(indent=1))


def current(config: McpConfig, found: dict[str, ServerStatus]) -> list[ServerStatus]:
    """A status for every configured server, by name: the checked one when it is of the
    server's present configuration, else ``starting`` (not checked yet)."""
    out = [
        ServerStatus(name=name, status="failed", error=f"mcp.json: {problem}")
        for name, problem in config.problems.items()
    ]
    for name, server in config.servers.items():
        digest = config_hash(server)
        known = found.get(name)
        if server.disabled:
            out.append(ServerStatus(name=name, status="disabled", config_hash=digest))
        elif known is not None and known.config_hash == digest:
            out.append(known)
        else:
            out.append(ServerStatus(name=name, status="starting", config_hash=digest))
    return sorted(out, key=lambda s: s.name)


def to_json(statuses: list[ServerStatus]) -> str:
    return json.dumps([s.model_dump() for s in statuses])
