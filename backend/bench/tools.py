"""Tool figures: an MCP tool call next to a built-in one, and approval to first token.

    python -m backend.bench.tools [--runs 20] [--json]

Starts ``durachat serve`` on a temporary data dir (unpaced demo model) with one MCP
server over stdio (``backend/bench/mcp_server.py``), then, through the client API:

- in one conversation, turns that call the built-in ``calculator`` and turns that
  call the server's ``echo`` (read-only, so allowed), alternating; the figure is each
  turn's time from the tool call's event to the first token after it (the model's
  next call), median of ``--runs``, and the MCP call's overhead over the built-in one;
- turns that call ``note`` (asks first): the time from the decision (``decide``
  returning) to the first token of the reply after it, median of ``--runs``.

The first ten or so tool turns on a fresh backend are faster than the rest (about
30 ms instead of about 90 ms, at ``ec50380`` too): see docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from backend.bench.scale_backend import Serve
from backend.client.api import DuraChatClient
from backend.local.paths import DataDir

WARMUP = 2


async def _tool_to_token(
    client: DuraChatClient, conversation_id: str, tool: str, args: str
) -> float:
    """Seconds from the tool call's event to the first token after its result."""
    sent = await client.send(f"[demo tool={tool}:{args}]", conversation_id)
    called = token = None
    # Followed to the turn's end: a follower left behind would hold a Redis read open
    # and delay the next turn's events.
    async for item in client.follow_turn(sent.conversation_id, sent.message_id, sent.stream_after):
        kind = getattr(item, "type", None)
        if kind == "tool_call":
            called = time.time()
        elif kind == "text_delta" and called is not None and item.call > 0 and token is None:
            token = time.time()
    if called is None or token is None:
        raise RuntimeError(f"no token after the {tool} call")
    return token - called


async def _decision_to_token(client: DuraChatClient, conversation_id: str) -> float:
    sent = await client.send('[demo tool=note:{"text": "bench"}]', conversation_id)
    decided = token = None
    async for item in client.follow_turn(sent.conversation_id, sent.message_id, sent.stream_after):
        kind = getattr(item, "type", None)
        if kind == "approval_requested":
            await client.decide(item.call_id, allow=True)
            decided = time.time()
        elif kind == "text_delta" and decided is not None and token is None:
            token = time.time()
    if decided is None or token is None:
        raise RuntimeError("no token after the approval")
    return token - decided


async def measure(data: DataDir, runs: int) -> dict[str, float]:
    client = await DuraChatClient.connect(data)
    try:
        # One conversation, as a user's: its workflow warm on the worker.
        conversation_id = (await client.send("[demo tokens=3]")).conversation_id
        builtin, mcp, approval = [], [], []
        for i in range(runs + WARMUP):
            b = await _tool_to_token(client, conversation_id, "calculator", '{"expression": "6*7"}')
            m = await _tool_to_token(client, conversation_id, "echo", '{"text": "hi"}')
            a = await _decision_to_token(client, conversation_id)
            if i >= WARMUP:
                builtin.append(b)
                mcp.append(m)
                approval.append(a)
    finally:
        await client.close()
    b_ms = statistics.median(builtin) * 1000
    m_ms = statistics.median(mcp) * 1000
    return {
        "builtin_tool_to_token_ms": round(b_ms, 1),
        "mcp_tool_to_token_ms": round(m_ms, 1),
        "mcp_overhead_ms": round(m_ms - b_ms, 1),
        "approval_to_first_token_ms": round(statistics.median(approval) * 1000, 1),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="durachat-bench-tools-") as tmp:
        data = DataDir(Path(tmp) / "data").ensure()
        server = {"command": sys.executable, "args": ["-m", "backend.bench.mcp_server"]}
        data.mcp_file.write_text(json.dumps({"mcpServers": {"bench": server}}))
        serve = Serve(data.root, Path(tmp) / "serve.err")
        serve.start()
        try:
            figures = asyncio.run(measure(data, args.runs))
        finally:
            serve.stop()
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"tool figures, median of {figures['runs']} (tool call → first token after it):")
    print(f"  built-in calculator          {figures['builtin_tool_to_token_ms']:8.1f} ms")
    print(f"  MCP echo (stdio)             {figures['mcp_tool_to_token_ms']:8.1f} ms")
    print(f"  MCP overhead                 {figures['mcp_overhead_ms']:8.1f} ms")
    print(f"  approval → first token       {figures['approval_to_first_token_ms']:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
