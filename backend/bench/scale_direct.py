"""The demo model alone, sent what the workflow sent it at a given turn: the part of a
late turn's time to first token that is the model reading a longer context, not
DuraChat carrying it.

The input of turn k is rebuilt from the store as the workflow builds it: each
earlier turn's stored items, trimmed to the context budget by the workflow's own
``model_context.trimmed``, then the user's message. It goes to the demo model
through the worker's own OpenAI client (``WorkerOpenAI``: the stock client's
per-item request walk, 0.45 ms an item, would swamp the figure), streaming; no
instructions and no tools: only the input grows with the conversation.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from backend.client.store import ConversationStore
from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.models.openai_client import WorkerOpenAI
from backend.workflows.model_context import context_turn, flattened, trimmed

ROUNDS = 3  # each turn's input is sent this many times, the rounds interleaved


def turn_inputs(
    store: ConversationStore, conversation_id: str, turn_numbers: list[int], budget: int
) -> list[list[dict[str, Any]]]:
    """The model input of each of ``turn_numbers`` (1 = the first turn)."""
    turns = store.export_conversation(conversation_id).turns
    inputs = []
    for number in turn_numbers:
        earlier = [context_turn(t.turn_id, t.items) for t in turns[: number - 1]]
        user = {"role": "user", "content": turns[number - 1].user_text}
        inputs.append([*flattened(trimmed(earlier, budget)), user])
    return inputs


async def _ttft_ms(client: WorkerOpenAI, items: list[dict[str, Any]]) -> float | None:
    started = time.perf_counter()
    first: float | None = None
    stream = await client.responses.create(
        model="durachat-demo",
        input=items,  # type: ignore[arg-type]
        stream=True,
    )
    async for event in stream:
        if first is None and event.type == "response.output_text.delta":
            first = time.perf_counter()
    return None if first is None else (first - started) * 1000


async def direct_ttft(
    base_url: str, data_dir: Path, conversation_id: str, early: list[int], late: list[int]
) -> dict[str, Any]:
    budget = Settings.load(DataDir(data_dir).settings_file).context_budget()
    with ConversationStore.in_data_dir(data_dir) as store:
        inputs = turn_inputs(store, conversation_id, early + late, budget)
    client = WorkerOpenAI(base_url=base_url, api_key="demo", max_retries=0)
    samples: list[list[float]] = [[] for _ in inputs]
    try:
        await _ttft_ms(client, inputs[0])  # a warm connection, as the worker's is
        for _ in range(ROUNDS):
            for i, items in enumerate(inputs):
                if (ms := await _ttft_ms(client, items)) is not None:
                    samples[i].append(ms)
    finally:
        await client.close()
    first = _median([s for per_turn in samples[: len(early)] for s in per_turn])
    last = _median([s for per_turn in samples[len(early) :] for s in per_turn])
    return {
        "context_budget_tokens": budget,
        "input_bytes_first": _input_bytes(inputs[: len(early)]),
        "input_bytes_last": _input_bytes(inputs[len(early) :]),
        "rounds": ROUNDS,
        "ttft_first_ms": first,
        "ttft_last_ms": last,
        "ttft_difference_ms": None if first is None or last is None else round(last - first, 2),
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _input_bytes(inputs: list[list[dict[str, Any]]]) -> int:
    """The median size of these inputs as JSON."""
    return int(statistics.median(len(json.dumps(i, ensure_ascii=False)) for i in inputs))
