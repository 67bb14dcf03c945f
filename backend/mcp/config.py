"""The MCP servers the user configured: ``<data dir>/mcp.json``.

The file uses the ``mcpServers`` format most MCP servers document, so a block
pasted from a server's README works as it is::

    {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "server-files"], "env": {"K": "V"}},
        "search": {"url": "https://example.com/mcp", "headers": {"Authorization": "..."}}}}

A value in ``env`` or ``headers`` may be ``"keyring:NAME"``: the secret is then
read from the OS keyring when the server starts (``secrets.py``) and is never on
disk. DuraChat also reads ``timeout`` (seconds one call may take) and
``disabled``; other keys other clients write (``type``, ``autoApprove``...) are
kept in the file and ignored.

One malformed server does not take the others down: it is reported by name, as
a server that cannot start.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backend.local.private_files import write_private

# Server names become parts of Temporal activity names and tool name prefixes.
NAME_PATTERN = r"[A-Za-z0-9_-]{1,32}"
_NAME_RE = re.compile(NAME_PATTERN)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_HEADER_NAME_RE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}")
SECRET_PREFIX = "keyring:"
SECRET_NAME_PATTERN = r"[A-Za-z0-9_.-]{1,100}"
_SECRET_NAME_RE = re.compile(SECRET_NAME_PATTERN)
DEFAULT_CALL_TIMEOUT_S = 60.0
MAX_CONFIG_BYTES = 1_000_000

Seconds = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]


class McpConfigError(RuntimeError):
    """mcp.json cannot be used at all; the message says why and what to do."""


def _check_value(value: str, what: str) -> str:
    if "\x00" in value or len(value) > 16_384:
        raise ValueError(f"{what} must be text of at most 16,384 characters")
    if value.startswith(SECRET_PREFIX) and not _SECRET_NAME_RE.fullmatch(
        value[len(SECRET_PREFIX) :]
    ):
        raise ValueError(
            f"{what}: a keyring reference is 'keyring:NAME', NAME of letters, digits, '_.-'"
        )
    return value


def _check_pairs(
    pairs: dict[str, str], name_re: re.Pattern[str], what: str, kind: str
) -> dict[str, str]:
    """``env`` or ``headers``: each name of its kind, each value text or a reference."""
    for key, value in pairs.items():
        if not name_re.fullmatch(key):
            raise ValueError(f"{key!r} is not {kind}")
        _check_value(value, f"{what} {key}")
    return pairs


class _Server(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    disabled: bool = False
    timeout: Seconds = DEFAULT_CALL_TIMEOUT_S


class StdioServer(_Server):
    command: str = Field(min_length=1, max_length=4096)
    args: list[Annotated[str, Field(max_length=16_384)]] = Field(
        default_factory=list, max_length=256
    )
    env: dict[str, str] = Field(default_factory=dict, max_length=256)
    cwd: str | None = None

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        return _check_pairs(env, _ENV_NAME_RE, "env", "an environment variable name")


class HttpServer(_Server):
    url: str = Field(min_length=1, max_length=4096)
    headers: dict[str, str] = Field(default_factory=dict, max_length=256)

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not re.match(r"https?://[^\s/]+", url):
            raise ValueError("the url must start with http:// or https://")
        return url

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return _check_pairs(headers, _HEADER_NAME_RE, "header", "an HTTP header name")


ServerConfig = StdioServer | HttpServer


def config_hash(server: ServerConfig) -> str:
    """Changes whenever anything about how the server is started changes (a secret's
    value, held in the keyring, is not part of it)."""
    data = json.dumps(
        {"kind": type(server).__name__, **server.model_dump()}, sort_keys=True
    ).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def secret_references(server: ServerConfig) -> list[str]:
    values = server.env.values() if isinstance(server, StdioServer) else server.headers.values()
    return [v[len(SECRET_PREFIX) :] for v in values if v.startswith(SECRET_PREFIX)]


def parse_server(name: str, entry: object) -> ServerConfig:
    """One ``mcpServers`` entry, or a ValueError naming the first problem."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            "a server name is 1 to 32 letters, digits, '_' or '-' (it prefixes tool names)"
        )
    if not isinstance(entry, dict):
        raise ValueError("the entry must be a JSON object")
    kind = entry.get("type")
    if kind == "sse":
        raise ValueError("SSE servers are not supported; use the server's streamable HTTP url")
    if "command" in entry and "url" in entry:
        raise ValueError('give either "command" (stdio) or "url" (HTTP), not both')
    model: type[_Server]
    if "command" in entry:
        model = StdioServer
    elif "url" in entry:
        model = HttpServer
    else:
        raise ValueError('the entry needs a "command" (stdio) or a "url" (streamable HTTP)')
    try:
        return model.model_validate(entry)  # type: ignore[return-value]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{where}: {message}" if where else message) from None


@dataclass(frozen=True)
class McpConfig:
    """The servers that can be started, and those whose entry is malformed (by name)."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def enabled(self) -> dict[str, ServerConfig]:
        return {n: s for n, s in self.servers.items() if not s.disabled}


def _read_raw(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise McpConfigError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise McpConfigError(f"{path} is over 1 MB; that is not an MCP configuration")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise McpConfigError(
            f"{path} is not valid JSON ({exc}); fix it, or remove it to have no MCP servers"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("mcpServers", {}), dict):
        raise McpConfigError(f'{path} must hold {{"mcpServers": {{"NAME": {{...}}}}}}')
    return raw


def load(path: Path) -> McpConfig:
    servers: dict[str, ServerConfig] = {}
    problems: dict[str, str] = {}
    for name, entry in _read_raw(path).get("mcpServers", {}).items():
        try:
            servers[name] = parse_server(name, entry)
        except ValueError as exc:
            problems[name] = str(exc)
    return McpConfig(servers, problems)


def _edit(path: Path, change: Any) -> None:
    """Apply ``change`` to the file's ``mcpServers``, keeping every other key as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(f".{path.name}.lock"))):
        raw = _read_raw(path)
        servers = dict(raw.get("mcpServers", {}))
        change(servers)
        raw["mcpServers"] = servers
        write_private(path, json.dumps(raw, indent=2, ensure_ascii=False) + "\n")


def add_server(path: Path, name: str, entry: dict[str, Any]) -> ServerConfig:
    """Add or replace one server; the entry is checked first (ValueError if malformed)."""
    server = parse_server(name, entry)

    def put(servers: dict[str, Any]) -> None:
        servers[name] = entry

    _edit(path, put)
    return server


def remove_server(path: Path, name: str) -> bool:
    """Remove one server; False when there was none of that name."""
    found = False

    def drop(servers: dict[str, Any]) -> None:
        nonlocal found
        found = servers.pop(name, None) is not None

    if not path.exists():
        return False
    _edit(path, drop)
    return found
