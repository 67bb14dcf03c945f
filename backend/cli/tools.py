"""``durachat mcp``, ``tools``, ``approvals``, ``approve`` and ``deny``.

MCP servers are kept in ``mcp.json`` and tool policies in settings: both are
files, so these commands work with or without a running backend. What a
server offers is what the backend's worker last found when it started it
(``mcp_status.json``); with no backend running, ``mcp list`` and ``tools`` start
each server once themselves to find out. ``approve`` and ``deny`` need the
backend (one is started for the call if none runs): the waiting turn goes on.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from backend.client.errors import DuraChatError
from backend.local.paths import DataDir
from backend.local.settings import Settings, set_tool_policy
from backend.mcp import config as mcp_config
from backend.mcp.status import ServerStatus, current, read_statuses, write_statuses
from backend.supervisor.lock import DataDirLock
from backend.tools.offer import OfferedTool, offer
from backend.tools.policy import Policy

# How long to wait for a running backend to check a server just added or changed.
CHECK_WAIT_S = 60.0


def _key_value(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise DuraChatError(f"{what} must be KEY=VALUE, got {text!r}")
    return key, value


def mcp_add(
    data: DataDir,
    name: str,
    command: list[str],
    url: str | None,
    env: list[str],
    headers: list[str],
    timeout: float | None,
) -> int:
    if url and command:
        raise DuraChatError("give either --url URL or -- COMMAND [ARGS...], not both")
    entry: dict[str, Any]
    if url:
        if env:
            raise DuraChatError("--env is for a server started as a command; use --header")
        entry = {"url": url}
        if headers:
            entry["headers"] = dict(_key_value(h, "--header") for h in headers)
    elif command:
        if headers:
            raise DuraChatError("--header is for a server reached by --url; use --env")
        entry = {"command": command[0], "args": command[1:]}
        if env:
            entry["env"] = dict(_key_value(e, "--env") for e in env)
    else:
        raise DuraChatError("say how to reach the server: --url URL, or -- COMMAND [ARGS...]")
    if timeout is not None:
        entry["timeout"] = timeout
    data.ensure()
    try:
        mcp_config.add_server(data.mcp_file, name, entry)
    except ValueError as exc:
        raise DuraChatError(f"the server {name!r} was not added: {exc}") from None
    print(f"added the MCP server {name}; durachat mcp list shows its tools", file=sys.stderr)
    return 0


def mcp_remove(data: DataDir, name: str) -> int:
    if not mcp_config.remove_server(data.mcp_file, name):
        raise DuraChatError(f"no MCP server is named {name!r} (durachat mcp list shows them)")
    print(f"removed the MCP server {name}", file=sys.stderr)
    return 0


def statuses(data: DataDir) -> list[ServerStatus]:
    """Every configured server's status, checked for its present configuration."""
    config = mcp_config.load(data.mcp_file)
    found = current(config, read_statuses(data.mcp_status_file))
    if not any(s.status == "starting" for s in found):
        return found
    if _backend_runs(data):
        deadline = time.monotonic() + CHECK_WAIT_S
        while time.monotonic() < deadline:
            time.sleep(0.2)
            config = mcp_config.load(data.mcp_file)
            found = current(config, read_statuses(data.mcp_status_file))
            if not any(s.status == "starting" for s in found):
                break
        return found
    from backend.mcp.probe import probe_all

    checked = asyncio.run(probe_all(config, data.logs))
    write_statuses(data.mcp_status_file, {**read_statuses(data.mcp_status_file), **checked})
    return current(config, checked)


def _backend_runs(data: DataDir) -> bool:
    return data.runtime_file.exists() and DataDirLock(data).is_held_elsewhere()


def mcp_list(data: DataDir, as_json: bool) -> int:
    found = statuses(data)
    if as_json:
        rows = [
            {
                "name": s.name,
                "status": s.status,
                "tools": [
                    {"name": t.name, "description": t.description, "read_only": t.read_only}
                    for t in s.tools
                ],
                "error": s.error,
                "stderr": s.stderr,
            }
            for s in found
        ]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not found:
        print("no MCP servers (durachat mcp add NAME -- COMMAND [ARGS...] adds one)")
    for s in found:
        tools = ", ".join(t.name for t in s.tools)
        print(f"{s.name}: {s.status}" + (f" ({tools})" if tools else ""))
        if s.error:
            print(f"  {s.error}")
        for line in s.stderr[-3:]:
            print(f"  | {line}")
    return 0


def all_tools(data: DataDir) -> list[OfferedTool]:
    ready = {s.name: s.tools for s in statuses(data) if s.status == "ready"}
    return offer(ready, Settings.load(data.settings_file).tool_policies)


def tools_list(data: DataDir, as_json: bool) -> int:
    tools = all_tools(data)
    if as_json:
        # name, source ("builtin" or the server), policy; and description, the name on
        # its server, and whether a failed call is tried again
        rows = [t.model_dump(exclude={"parameters"}) for t in tools]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max((len(t.name) for t in tools), default=4)
    for t in tools:
        print(f"{t.name:<{width}}  {t.policy:<5}  {t.source}")
    return 0


def tools_set(data: DataDir, name: str, policy: Policy) -> int:
    names = {t.name for t in all_tools(data)}
    if name not in names:
        raise DuraChatError(f"no tool is named {name!r} (durachat tools lists them)")
    data.ensure()
    set_tool_policy(data.settings_file, name, policy)
    print(f"{name}: {policy}", file=sys.stderr)
    return 0


def approvals_list(data: DataDir, as_json: bool) -> int:
    from backend.client.store import ConversationStore

    data.ensure()
    store = ConversationStore.in_data_dir(data.root)
    try:
        pending = store.pending_approvals()
    finally:
        store.close()
    if as_json:
        # conversation_id, call_id, tool, arguments, requested_at; and server, turn_id
        rows = [p.model_dump() for p in pending]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not pending:
        print("no tool call waits for approval")
    for p in pending:
        source = f" ({p.server})" if p.server else ""
        print(f"{p.call_id}  {p.tool}{source} {p.arguments}  in {p.conversation_id}")
    return 0


async def decide_command(
    data: DataDir, call_id: str, allow: bool, always: bool, reason: str | None
) -> int:
    from backend.cli.chat import backend_client

    started_here = not _backend_runs(data)  # then it lives only as long as this command
    async with backend_client(data) as client:
        pending = await client.decide(call_id, allow=allow, always=always, reason=reason)
        verdict = "allowed" if allow else "denied"
        extra = " (and from now on, without asking)" if allow and always else ""
        print(f"{verdict} {pending.tool}{extra} in {pending.conversation_id}", file=sys.stderr)
        if started_here:
            # Stay until the turn goes as far as it can, so the reply is not cut off.
            print("waiting for the reply to finish...", file=sys.stderr, flush=True)
            settled = False  # the stream replays from the turn's start: this decision first
            async for item in client.follow_turn(pending.conversation_id, pending.turn_id):
                kind = getattr(item, "type", None)
                if kind == "approval_settled" and item.call_id == call_id:
                    settled = True
                elif kind == "approval_requested" and settled:
                    print("the reply waits for another approval", file=sys.stderr)
                    break
    return 0


def mcp_secret(name: str) -> int:
    """Store a secret for ``keyring:NAME``: read from the terminal without echo, or
    from standard input (never from an argument, which other users could see)."""
    import getpass
    import re

    from backend.mcp.config import SECRET_NAME_PATTERN
    from backend.mcp.secrets import set_secret

    if not re.fullmatch(SECRET_NAME_PATTERN, name):
        raise DuraChatError("a secret's name is letters, digits, '_', '.' or '-'")
    if sys.stdin.isatty():
        value = getpass.getpass(f"secret {name}: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise DuraChatError("no secret was given; nothing was stored")
    set_secret(name, value)
    print(f'stored; mcp.json may now say "keyring:{name}"', file=sys.stderr)
    return 0
