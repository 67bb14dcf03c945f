"""Time from ``send`` to the first text delta on the subscriber, and events per second
the live stream carries with nothing lost or duplicated.

    python -m backend.bench.stream_latency [--runs 20] [--tokens 5000] [--json]

Starts its own backend in a temporary data dir, the demo model unpaced.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

from backend.bench.startup import machine_description
from backend.client_api import DuraChatClient
from backend.demo_model.script import counted_tokens
from backend.paths import DataDir
from backend.stream.events import TextDelta
from backend.supervisor.supervisor import Supervisor, SupervisorOptions


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def time_to_first_token(client: DuraChatClient, runs: int) -> list[float]:
    warm = await client.send("[demo tokens=3]")
    async for _ in client.follow_turn(warm.conversation_id, warm.message_id, warm.stream_after):
        pass
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        sent = await client.send("[demo tokens=20]", warm.conversation_id)
        first: float | None = None
        async for item in client.follow_turn(
            sent.conversation_id, sent.message_id, sent.stream_after
        ):
            if first is None and isinstance(item, TextDelta):
                first = time.perf_counter()
        assert first is not None
        results.append((first - started) * 1000)
    return results


async def throughput(client: DuraChatClient, tokens: int) -> dict[str, float | int]:
    sent = await client.send(f"[demo tokens={tokens}]")
    texts: list[str] = []
    seqs: list[int] = []
    first = last = 0.0
    async for item in client.follow_turn(sent.conversation_id, sent.message_id, sent.stream_after):
        if isinstance(item, TextDelta):
            now = time.perf_counter()
            first = first or now
            last = now
            texts.append(item.text)
        if hasattr(item, "seq"):
            seqs.append(item.seq)
    expected = list(counted_tokens(tokens))
    lost = sum(1 for i, t in enumerate(expected) if i >= len(texts) or texts[i] != t)
    return {
        "tokens": tokens,
        "events_per_s": round(len(texts) / (last - first), 1) if last > first else 0.0,
        "lost": lost,
        "duplicated": max(0, len(texts) - len(expected)),
        "seq_gap_free": all(b == a + 1 for a, b in itertools.pairwise(seqs)),
    }


async def run(runs: int, tokens: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="durachat-bench-") as tmp:
        sup = Supervisor(SupervisorOptions(data_dir=DataDir(Path(tmp)), demo_tokens_per_second=0))
        info = await sup.start()
        client = await DuraChatClient.connect_to(info)
        try:
            ttft = await time_to_first_token(client, runs)
            carried = await throughput(client, tokens)
        finally:
            await client.close()
            await sup.stop()
    return {
        "machine": machine_description(),
        "send_to_first_delta_ms": {
            "p50": round(statistics.median(ttft), 1),
            "p90": round(_percentile(ttft, 0.9), 1),
            "max": round(max(ttft), 1),
            "runs": runs,
        },
        "stream": carried,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.runs, args.tokens))
    if args.json:
        print(json.dumps(result))
        return 0
    ttft, stream = result["send_to_first_delta_ms"], result["stream"]
    print(f"machine: {result['machine']}")
    print(
        f"send to first text delta on the subscriber: median {ttft['p50']} ms, "  # type: ignore[index]
        f"p90 {ttft['p90']} ms, worst {ttft['max']} ms over {ttft['runs']} runs"
    )  # type: ignore[index]
    print(
        f"stream: {stream['events_per_s']} text events/s over {stream['tokens']} tokens, "  # type: ignore[index]
        f"lost {stream['lost']}, duplicated {stream['duplicated']}, "  # type: ignore[index]
        f"seq gap-free: {stream['seq_gap_free']}"
    )  # type: ignore[index]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
