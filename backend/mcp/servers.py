"""Starting one configured MCP server in the worker, as an OpenAI Agents ``MCPServer``
(what the Temporal plugin's ``mcp_servers`` factories return).

A stdio server's stderr goes to ``logs/mcp-<name>.log``, so a server that cannot
start is reported with what it said. Its environment is the MCP SDK's short safe
list (HOME, PATH, USER...) plus its own ``env``: never the worker's environment,
so no other child's variables reach it. ``keyring:NAME`` values are read from the
keyring here, at start, and go only to that server.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from agents.mcp import (
    MCPServer,
    MCPServerStdio,
    MCPServerStdioParams,
    MCPServerStreamableHttp,
    MCPServerStreamableHttpParams,
)
from mcp.client.stdio import stdio_client

from backend.local.private_files import private_opener
from backend.mcp.config import HttpServer, ServerConfig, StdioServer
from backend.mcp.secrets import resolved

# A server's log is started over when it passes this size.
MAX_LOG_BYTES = 1_000_000


def log_file(log_dir: Path, name: str) -> Path:
    return log_dir / f"mcp-{name}.log"


class _LoggedStdio(MCPServerStdio):
    """``MCPServerStdio`` whose child writes its stderr to our log file (the SDK class
    has no such option and would share the worker's stderr)."""

    def __init__(self, params: MCPServerStdioParams, errlog: Path, **options: Any) -> None:
        super().__init__(params, **options)
        self._errlog_path = errlog
        self._errlog: IO[str] | None = None

    def create_streams(self) -> Any:
        if self._errlog is None:
            self._errlog_path.parent.mkdir(parents=True, exist_ok=True)
            big = self._errlog_path.exists() and self._errlog_path.stat().st_size > MAX_LOG_BYTES
            self._errlog = open(  # noqa: SIM115 (open for the child's whole life; closed in cleanup)
                self._errlog_path, "w" if big else "a", encoding="utf-8", opener=private_opener
            )
        return stdio_client(self.params, errlog=self._errlog)

    async def cleanup(self) -> None:
        try:
            await super().cleanup()
        finally:
            if self._errlog is not None:
                self._errlog.close()
                self._errlog = None


def make_server(name: str, server: ServerConfig, log_dir: Path) -> MCPServer:
    """A server object, not yet connected; raises SecretUnavailable for a missing secret."""
    # The call's own time limit: a call that outlasts it fails (and the connection
    # is started afresh); the activity's limit leaves room to start the server.
    timeout = server.timeout
    if isinstance(server, StdioServer):
        params: MCPServerStdioParams = {
            "command": server.command,
            "args": list(server.args),
            "env": resolved(server.env),
        }
        if server.cwd:
            params["cwd"] = server.cwd
        return _LoggedStdio(
            params,
            log_file(log_dir, name),
            name=name,
            client_session_timeout_seconds=timeout,
        )
    assert isinstance(server, HttpServer)
    http: MCPServerStreamableHttpParams = {
        "url": server.url,
        "headers": resolved(server.headers),
        "timeout": timeout,
    }
    return MCPServerStreamableHttp(http, name=name, client_session_timeout_seconds=timeout)


def stderr_tail(log_dir: Path, name: str, lines: int = 8) -> list[str]:
    """The last lines a stdio server wrote to its stderr."""
    path = log_file(log_dir, name)
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
