"""The tools the agent may call: names, descriptions and argument schemas.

Pure data, imported by the workflow (to offer the tools to the model) and by the
tool activity (to run them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "calculator",
        "Evaluate an arithmetic expression exactly (+ - * / // % ** and sqrt, log, sin...).",
        _object({"expression": {"type": "string"}}, ["expression"]),
    ),
    ToolSpec(
        "current_time",
        "The current date and time, in the user's time zone or in a named IANA time zone.",
        _object(
            {"timezone": {"type": ["string", "null"], "description": "e.g. Europe/Paris"}},
            ["timezone"],
        ),
    ),
    ToolSpec(
        "list_files",
        "List the files and folders at a path inside the folder the user granted.",
        _object(
            {"path": {"type": "string", "description": "relative path, '.' for the top"}}, ["path"]
        ),
    ),
    ToolSpec(
        "read_file",
        "Read a text file at a path inside the folder the user granted.",
        _object({"path": {"type": "string"}}, ["path"]),
    ),
)

BY_NAME = {t.name: t for t in TOOLS}
