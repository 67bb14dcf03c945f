"""Checking an MCP server: start it, list its tools, stop it (for ``mcp_status.json``)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from backend.mcp.config import McpConfig, ServerConfig, config_hash
from backend.mcp.secrets import SecretUnavailable
from backend.mcp.servers import make_server, stderr_tail
from backend.mcp.status import ServerStatus
from backend.tools.offer import McpTool

log = logging.getLogger("durachat.mcp")

PROBE_TIMEOUT_S = 30.0


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
