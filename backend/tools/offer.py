"""One tool list for the agent: the built-in tools and every MCP server's, each with
the name the model sees, where it comes from, its policy and whether a failed
call may be tried again.

Pure data and functions: the workflow builds the agent's tools from ``offer``,
and ``durachat tools`` shows the same list.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from backend.tools.catalog import TOOLS, ToolSpec
from backend.tools.policy import Policy, default_policy

BUILTIN = "builtin"
# What OpenAI's API accepts as a function name.
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")
MAX_DESCRIPTION_CHARS = 2_000


class McpTool(BaseModel):
    """A tool as its server lists it (what DuraChat uses of it)."""

    name: str = Field(min_length=1, max_length=256)
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    read_only: bool = False
    idempotent: bool = False

    @classmethod
    def from_mcp(cls, tool: Any) -> McpTool:
        """From an ``mcp.types.Tool``."""
        notes = tool.annotations
        return cls(
            name=tool.name,
            description=(tool.description or "")[:MAX_DESCRIPTION_CHARS],
            input_schema=tool.input_schema or {"type": "object"},
            read_only=bool(notes and notes.read_only_hint),
            idempotent=bool(notes and notes.idempotent_hint),
        )


class OfferedTool(BaseModel):
    name: str  # as the model and the user see it
    source: str  # "builtin", or the MCP server's name
    remote_name: str  # the tool's own name on its server
    description: str
    parameters: dict[str, Any]
    policy: Policy
    # Tried again after an ambiguous failure (a crash, a timeout) only when running it
    # twice cannot do harm.
    retry: bool

    @property
    def builtin(self) -> bool:
        return self.source == BUILTIN


def _model_name(name: str) -> str:
    return _BAD_CHARS.sub("_", name)[:64] or "tool"


def offer(
    servers: Mapping[str, Sequence[McpTool]],
    policies: Mapping[str, Policy],
    builtins: Sequence[ToolSpec] = TOOLS,
) -> list[OfferedTool]:
    """Every tool, denied ones included (the caller leaves those out of the agent).

    An MCP tool keeps its own name when no other tool has it; otherwise, and when its
    name is not one the model API accepts, it is named ``SERVER__TOOL``.
    """
    plain = Counter(_model_name(t.name) for tools in servers.values() for t in tools)
    plain.update(b.name for b in builtins)
    offered = [
        OfferedTool(
            name=b.name,
            source=BUILTIN,
            remote_name=b.name,
            description=b.description,
            parameters=b.parameters,
            policy=policies.get(b.name) or default_policy(b.name, builtin=True, read_only=True),
            retry=True,  # every built-in tool only reads
        )
        for b in builtins
    ]
    taken = {t.name for t in offered}
    for server in sorted(servers):
        for tool in servers[server]:
            name = _model_name(tool.name)
            if plain[name] > 1 or not _NAME_RE.fullmatch(tool.name):
                name = _model_name(f"{server}__{tool.name}")
            if name in taken:  # two tools of one server that differ only in bad characters
                continue
            taken.add(name)
            offered.append(
                OfferedTool(
                    name=name,
                    source=server,
                    remote_name=tool.name,
                    description=tool.description or f"{tool.name} (from {server})",
                    parameters=tool.input_schema,
                    policy=policies.get(name)
                    or default_policy(name, builtin=False, read_only=tool.read_only),
                    retry=tool.read_only or tool.idempotent,
                )
            )
    return offered
