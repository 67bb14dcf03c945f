"""One long conversation through the real workflow and the demo model: time to first
token early and late, and the size of every workflow run's event history."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.bench.scale_data import Writer
from backend.client.api import DuraChatClient
from backend.demo_model.script import counted_tokens
from backend.stream.events import TextDelta
from backend.workflows.conversation_types import ConversationView

EDGE_TURNS = 10  # the turns compared: the first ten and the last ten
PROFILE_BLOCK = 100  # a median per this many turns shows where time grows, if it does
# ... and per this many over the first PROFILE_BLOCK turns, while the context fills up.
EARLY_BLOCK = 10


def reply_tokens_for(reply_bytes: int) -> int:
    """How many demo-model tokens (``w1 `` ... ``wN ``) make a reply of at least this size."""
    tokens = 1
    while len("".join(counted_tokens(tokens))) < reply_bytes:
        tokens += 1
    return tokens


@dataclass
class TurnTiming:
    ttft_ms: float | None  # send to the first text delta
    round_trip_ms: float  # send to the end of follow_turn (the history read included)
    status: str
    reply_bytes: int


@dataclass
class LongConversation:
    reply_tokens: int
    conversation_id: str = ""
    turns: list[TurnTiming] = field(default_factory=list)


async def one_turn(
    client: DuraChatClient, text: str, conversation_id: str | None
) -> tuple[str, TurnTiming]:
    """Send ``text`` and follow its turn to the end, as the window does."""
    started = time.perf_counter()
    sent = await client.send(text, conversation_id)
    first: float | None = None
    view: ConversationView | None = None
    async for item in client.follow_turn(sent.conversation_id, sent.message_id, sent.stream_after):
        if first is None and isinstance(item, TextDelta):
            first = time.perf_counter()
        elif isinstance(item, ConversationView):
            view = item
    ended = time.perf_counter()
    turn = next((t for t in view.turns if t.turn_id == sent.message_id), None) if view else None
    return sent.conversation_id, TurnTiming(
        ttft_ms=None if first is None else (first - started) * 1000,
        round_trip_ms=(ended - started) * 1000,
        status=turn.status if turn else "missing",
        reply_bytes=len(turn.reply.encode()) if turn else 0,
    )


def prompt(writer: Writer, number: int, reply_tokens: int) -> str:
    """A user's message (varied words) with the demo model's directive for the reply."""
    return f"{number}. {writer.sentence()} [demo tokens={reply_tokens} tps=0]"


async def run_long_conversation(
    client: DuraChatClient,
    turns: int,
    reply_bytes: int,
    pause_s: float,
    progress: Callable[[str], None],
) -> LongConversation:
    tokens = reply_tokens_for(reply_bytes)
    writer = Writer(random.Random(7), "python", "durabench")
    result = LongConversation(reply_tokens=tokens)
    cid: str | None = None
    for number in range(1, turns + 1):
        # As a person (or a script) would: never a prompt within milliseconds of the
        # last reply's end (docs/performance.md: that pattern alone made Temporal late).
        await asyncio.sleep(pause_s)
        cid, timing = await one_turn(client, prompt(writer, number, tokens), cid)
        result.turns.append(timing)
        if number % PROFILE_BLOCK == 0 or number == turns:
            progress(f"turn {number}/{turns}: first token {_ms(timing.ttft_ms)}")
    result.conversation_id = cid or ""
    return result


def _ms(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f} ms"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def turn_figures(long: LongConversation) -> dict[str, Any]:
    ttft = [t.ttft_ms for t in long.turns]
    trips: list[float | None] = [t.round_trip_ms for t in long.turns]
    edge = min(EDGE_TURNS, len(ttft))
    first, last = _median(ttft[:edge]), _median(ttft[-edge:])
    return {
        "conversation_id": long.conversation_id,
        "turns": len(long.turns),
        "reply_tokens": long.reply_tokens,
        "reply_bytes_median": statistics.median(t.reply_bytes for t in long.turns),
        "not_done": sum(t.status != "done" for t in long.turns),
        "no_text": sum(t.ttft_ms is None for t in long.turns),
        "edge_turns": edge,
        "ttft_first_ms": first,
        "ttft_last_ms": last,
        "ttft_difference_ms": None if first is None or last is None else round(last - first, 2),
        "round_trip_first_ms": _median(trips[:edge]),
        "round_trip_last_ms": _median(trips[-edge:]),
        "ttft_by_block_ms": [
            _median(ttft[i : i + PROFILE_BLOCK]) for i in range(0, len(ttft), PROFILE_BLOCK)
        ],
        "round_trip_by_block_ms": [
            _median(trips[i : i + PROFILE_BLOCK]) for i in range(0, len(trips), PROFILE_BLOCK)
        ],
        "block_turns": PROFILE_BLOCK,
        "ttft_early_by_block_ms": [
            _median(ttft[i : i + EARLY_BLOCK])
            for i in range(0, min(PROFILE_BLOCK, len(ttft)), EARLY_BLOCK)
        ],
        "early_block_turns": EARLY_BLOCK,
        "ttft_ms_per_turn": [None if v is None else round(v, 2) for v in ttft],
    }


async def workflow_runs(client: DuraChatClient, conversation_id: str) -> list[dict[str, Any]]:
    """Every run of the conversation's workflow, oldest first: its event history's size."""
    runs = []
    async for wf in client.temporal.list_workflows(f"WorkflowId = '{conversation_id}'"):
        handle = client.temporal.get_workflow_handle(conversation_id, run_id=wf.run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        runs.append(
            {
                "run_id": wf.run_id,
                "status": wf.status.name if wf.status else "?",
                "started": wf.start_time.timestamp() if wf.start_time else 0.0,
                "history_bytes": info.history_size_bytes,
                "history_events": info.history_length,
            }
        )
    runs.sort(key=lambda r: r["started"])
    return runs
