"""A small MCP server that tests start as a real subprocess, over stdio or streamable HTTP.

It lets tests exercise DuraChat's MCP support end to end without Node or the network:
plain tools (``echo``, ``add``), tools with side effects a test can observe in files under
``--marker-dir`` (``append_line``), tools that stop half-way so a test can kill the server
process mid-call (``slow_append``, ``slow_lookup``; both resume once ``DIR/release``
exists), a tool that never returns (``hang``), and tools that report what the server sees
of its environment and of the HTTP request (``env_value``, ``header_value``, and their
``_digest`` forms, which prove a secret arrived without showing it). Every tool
carries MCP ``ToolAnnotations`` (read-only, idempotent, destructive hints).

Run it as::

    python -m tests.support.mcp_server --transport stdio --marker-dir DIR
    python -m tests.support.mcp_server --transport http --port N --marker-dir DIR

Over HTTP it listens on ``http://127.0.0.1:N/mcp`` and prints one line
``READY http://127.0.0.1:N/mcp`` on stdout once it accepts connections (``--port 0``
picks a free port, which the READY line then names). Over stdio, stdout is the protocol
and nothing else is ever printed there. ``--fail-start MESSAGE`` makes it write MESSAGE
(between a couple of other lines) to stderr and exit with status 3 before serving.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

FAIL_START_EXIT_CODE = 3
POLL_SECONDS = 0.02

READ_ONLY = ToolAnnotations(read_only_hint=True)
READ_ONLY_IDEMPOTENT = ToolAnnotations(read_only_hint=True, idempotent_hint=True)
APPENDS = ToolAnnotations(read_only_hint=False, idempotent_hint=False, destructive_hint=False)


def build_server(marker_dir: Path) -> MCPServer:
    """The test server; its tools keep their marker files in ``marker_dir``."""
    server: MCPServer = MCPServer("durachat-test-mcp", version="1", log_level="WARNING")
    appended = marker_dir / "appended.txt"
    release = marker_dir / "release"

    def append(text: str) -> str:
        with appended.open("a", encoding="utf-8") as out:
            out.write(text + "\n")
        lines = len(appended.read_text(encoding="utf-8").splitlines())
        return f"appended ({lines} lines)"

    def write_atomically(path: Path, content: str) -> None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)

    async def wait_for_release() -> None:
        while not release.exists():
            await asyncio.sleep(POLL_SECONDS)

    @server.tool(annotations=READ_ONLY)
    async def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool(annotations=READ_ONLY_IDEMPOTENT)
    async def add(a: float, b: float) -> float:
        """Return a + b."""
        return a + b

    @server.tool(annotations=APPENDS)
    async def append_line(text: str) -> str:
        """Append a line to appended.txt in the marker directory; return the line count."""
        return append(text)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=False))
    async def slow_append(text: str) -> str:
        """Mark slow_append.started with our pid, wait until the release file exists,
        then append a line to appended.txt like append_line."""
        write_atomically(marker_dir / "slow_append.started", str(os.getpid()))
        await wait_for_release()
        return append(text)

    @server.tool(annotations=READ_ONLY_IDEMPOTENT)
    async def slow_lookup(key: str) -> str:
        """Look a key up. The first call ever (no slow_lookup.started yet) marks that file
        with our pid and waits until the release file exists; later calls answer at once."""
        with (marker_dir / "lookups.txt").open("a", encoding="utf-8") as out:
            out.write(f"lookup {key} {os.getpid()}\n")
        started = marker_dir / "slow_lookup.started"
        if not started.exists():
            write_atomically(started, str(os.getpid()))
            await wait_for_release()
        return f"value of {key}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=False))
    async def hang() -> str:
        """Never return (once it has written its pid to DIR/hang.started)."""
        write_atomically(marker_dir / "hang.started", str(os.getpid()))
        await asyncio.Event().wait()
        return "unreachable"

    @server.tool(annotations=READ_ONLY)
    async def env_value(name: str) -> str:
        """The server process's environment variable ``name``, or "<unset>"."""
        return os.environ.get(name, "<unset>")

    @server.tool(annotations=READ_ONLY)
    async def env_digest(name: str) -> str:
        """The SHA-256 of the environment variable ``name`` (a secret's proof that it
        arrived, without its text entering the conversation), or "<unset>"."""
        value = os.environ.get(name)
        return "<unset>" if value is None else hashlib.sha256(value.encode()).hexdigest()

    @server.tool(annotations=READ_ONLY)
    async def header_digest(name: str, ctx: Context) -> str:
        """The SHA-256 of the HTTP request header ``name`` of this call, or "<unset>"."""
        value = request_header(ctx, name)
        return "<unset>" if value is None else hashlib.sha256(value.encode()).hexdigest()

    @server.tool(annotations=READ_ONLY)
    async def header_value(name: str, ctx: Context) -> str:
        """The HTTP request header ``name`` (case-insensitive) of this call, or "<unset>"
        (always over stdio, which has no headers)."""
        value = request_header(ctx, name)
        return "<unset>" if value is None else value

    return server


def request_header(ctx: Context, name: str) -> str | None:
    """The HTTP request header ``name`` (case-insensitive); None over stdio."""
    headers = ctx.headers
    if headers is None:
        return None
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


async def serve_http(server: MCPServer, port: int) -> None:
    """Serve streamable HTTP on 127.0.0.1:port/mcp; print READY on stdout once listening."""
    import uvicorn

    app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    # No access log: uvicorn writes it to stdout, which a test may not drain.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    http = uvicorn.Server(config)
    serving = asyncio.create_task(http.serve())
    while not http.started:
        if serving.done():
            await serving  # re-raises why it could not start
            raise SystemExit("the HTTP server stopped before it started listening")
        await asyncio.sleep(POLL_SECONDS)
    bound = http.servers[0].sockets[0].getsockname()[1]
    print(f"READY http://127.0.0.1:{bound}/mcp", flush=True)
    await serving


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], required=True)
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0: any free port)")
    parser.add_argument("--marker-dir", type=Path, required=True)
    parser.add_argument("--fail-start", metavar="MESSAGE")
    args = parser.parse_args(argv)

    print(f"test MCP server starting (pid {os.getpid()})", file=sys.stderr, flush=True)
    if args.fail_start is not None:
        print("test MCP server: checking its configuration", file=sys.stderr)
        print(args.fail_start, file=sys.stderr)
        print(f"test MCP server: exiting with status {FAIL_START_EXIT_CODE}", file=sys.stderr)
        sys.stderr.flush()
        return FAIL_START_EXIT_CODE

    marker_dir: Path = args.marker_dir
    marker_dir.mkdir(parents=True, exist_ok=True)
    server = build_server(marker_dir)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        asyncio.run(serve_http(server, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
