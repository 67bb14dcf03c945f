"""Each MCP server's status and tools as last checked: ``<data dir>/mcp_status.json``.

The worker checks every configured server when it starts and whenever mcp.json
changes (start it, list its tools, stop it) and writes what it found here;
``durachat mcp list``, ``durachat tools``, ``doctor`` and the window read it. An
entry is current only while its ``config_hash`` matches the server's entry in
mcp.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from backend.local.private_files import write_private
from backend.mcp.config import McpConfig, ServerConfig, config_hash
from backend.mcp.secrets import SecretUnavailable
from backend.mcp.servers import make_server, stderr_tail
from backend.tools.offer import McpTool

log = logging.getLogger("durachat.mcp")

Status = Literal["ready", "failed", "disabled", "starting"]
PROBE_TIMEOUT_S = 30.0


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


def failure_text(exc: BaseException) -> str:
    """One line for why a server could not be started or listed (the MCP SDK wraps
    the cause in nested task-group exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"it did not answer within {PROBE_TIMEOUT_S:.0f} s"
    if isinstance(exc, FileNotFoundError):
        return f"its command was not found ({exc.filename or exc})"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if text == "Connection closed":
        return "it exited or closed the connection before answering"
    return text[:300]


async def probe(
    name: str, server: ServerConfig, log_dir: Path, timeout: float = PROBE_TIMEOUT_S
) -> ServerStatus:
    """Start the server, list its tools, stop it."""
    digest = config_hash(server)
    try:
        mcp_server = make_server(name, server, log_dir)
    except SecretUnavailable as exc:
        return ServerStatus(
            name=name, status="failed", error=str(exc), config_hash=digest, checked_at=time.time()
        )
    try:
        async with asyncio.timeout(timeout):
            await mcp_server.connect()
            tools = [McpTool.from_mcp(t) for t in await mcp_server.list_tools()]
    # A server is the user's program: whatever it does wrong is reported as its
    # failure (one line and its stderr), never taken for DuraChat's.
    except Exception as exc:
        return ServerStatus(
            name=name,
            status="failed",
            error=failure_text(exc),
            stderr=stderr_tail(log_dir, name),
            config_hash=digest,
            checked_at=time.time(),
        )
    finally:
        try:
            await asyncio.wait_for(mcp_server.cleanup(), 10)
        # The user's program, whose tools are known already: noted, not fatal.
        except Exception as exc:
            log.info("MCP server %s did not stop cleanly after its check: %s", name, exc)
    return ServerStatus(
        name=name, status="ready", tools=tools, config_hash=digest, checked_at=time.time()
    )


async def probe_all(config: McpConfig, log_dir: Path) -> dict[str, ServerStatus]:
    enabled = config.enabled()
    found = await asyncio.gather(*(probe(n, s, log_dir) for n, s in enabled.items()))
    return {s.name: s for s in found}


def to_json(statuses: list[ServerStatus]) -> str:
    return json.dumps([s.model_dump() for s in statuses])
