"""What a turn needs to know to offer its tools: the MCP servers ready now (each with
the hash of its configuration, so its tools are listed again when it changes) and
the user's tool policies.

The client sends it with each message, read from the settings and the worker's last
check of each server (``mcp_status.json``), so a turn's first model call does not
wait for it; when a server is still being checked the message carries none, and
the turn asks the worker itself (which waits for the check).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.mcp.config import McpConfig
from backend.mcp.status import ServerStatus, current
from backend.tools.policy import Policy


class ServerSetup(BaseModel):
    name: str = Field(max_length=32)
    config_hash: str = Field(max_length=64)  # the server's tools are listed again when this changes
    timeout_s: float  # one call's time limit


class ToolSetup(BaseModel):
    servers: list[ServerSetup] = Field(default_factory=list, max_length=100)
    policies: dict[str, Policy] = Field(default_factory=dict, max_length=2_000)


def ready_servers(config: McpConfig, statuses: list[ServerStatus]) -> list[ServerSetup]:
    """The enabled servers whose check of their present configuration found tools."""
    enabled = config.enabled()
    return [
        ServerSetup(name=s.name, config_hash=s.config_hash, timeout_s=enabled[s.name].timeout)
        for s in statuses
        if s.status == "ready" and s.name in enabled
    ]


def setup_from_files(
    config: McpConfig, found: dict[str, ServerStatus], policies: dict[str, Policy]
) -> ToolSetup | None:
    """The setup as the files tell it; None while a server is being checked."""
    statuses = current(config, found)
    if any(s.status == "starting" for s in statuses):
        return None
    return ToolSetup(servers=ready_servers(config, statuses), policies=policies)
