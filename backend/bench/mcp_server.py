"""The MCP server the tools benchmark calls over stdio: two tools that answer at once,
so what is timed is DuraChat's path to a tool, not the tool."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("durachat-bench", version="1", log_level="WARNING")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=False))
async def note(text: str) -> str:
    """Pretend to write the text down (a tool that asks before it runs)."""
    return f"noted: {text}"


if __name__ == "__main__":
    server.run("stdio")
