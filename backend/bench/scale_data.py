"""Made-up conversations for the scale benchmark, as the store imports them.

Deterministic (a seeded generator): each conversation has a topic, a made-up
project name and turns of varied words, spread over the past year; every few
turns the assistant calls a tool, recorded as the worker records one. The items
of each turn are what the workflow hands the store (the model's context).
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend.bench.scale_words import COMMON, SYLLABLES, TOPICS
from backend.client.store_types import ExportedConversation, ExportedTurn
from backend.workflows.conversation_types import ToolCallRecord, title_from

YEAR_S = 365 * 24 * 3600
TOOL_EVERY = 4  # about one turn in this many calls a tool
TOPIC_SHARE = 0.2  # of the words in a message, this share comes from its topic
MODELS = (("gpt-4.1-mini", "openai"), ("llama3.1:8b", "openai-compatible"), ("demo", "demo"))

_WORDS = list(dict.fromkeys(COMMON))
_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(_WORDS))))
_TOPIC_NAMES = sorted(TOPICS)


@dataclass(frozen=True)
class DataShape:
    conversations: int
    messages_per_conversation: int  # a user message and a reply are two messages
    seed: int = 12

    @property
    def turns_per_conversation(self) -> int:
        return max(1, self.messages_per_conversation // 2)

    @property
    def messages(self) -> int:
        return self.conversations * self.turns_per_conversation * 2


class Writer:
    """Text of one conversation: common words, its topic's words, its project name."""

    def __init__(self, rng: random.Random, topic: str, project: str) -> None:
        self.rng = rng
        self.topic_words = [*TOPICS[topic], project]

    def sentence(self) -> str:
        rng = self.rng
        words = rng.choices(_WORDS, cum_weights=_WEIGHTS, k=rng.randint(6, 18))
        for i in range(len(words)):
            if rng.random() < TOPIC_SHARE:
                words[i] = rng.choice(self.topic_words)
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice(".?.!.")

    def paragraph(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))


def project_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4)))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _tool_call(rng: random.Random, at: float) -> ToolCallRecord:
    if rng.random() < 0.7:
        a, b = rng.randint(2, 9999), rng.randint(2, 999)
        name, arguments, output = "calculator", {"expression": f"{a} * {b}"}, str(a * b)
    else:
        name, arguments = "current_time", {"timezone": "Europe/Lisbon"}
        output = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))
    duration_ms = round(rng.uniform(0.5, 40), 2)
    return ToolCallRecord(
        call_id=f"call_{rng.getrandbits(96):024x}",
        name=name,
        arguments=json.dumps(arguments),
        status="done",
        output=output,
        started_at=at,
        ended_at=at + duration_ms / 1000,
        duration_ms=duration_ms,
        attempts=1,
    )


def _items(user: str, reply: str, call: ToolCallRecord | None, rng: random.Random) -> list[Any]:
    """The Responses items the workflow stores with a turn (what the model was told)."""
    items: list[dict[str, Any]] = [{"role": "user", "content": user}]
    if call is not None:
        items.append(
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
                "id": f"fc_{rng.getrandbits(64):016x}",
            }
        )
        items.append(
            {"type": "function_call_output", "call_id": call.call_id, "output": call.output}
        )
    items.append(
        {
            "id": f"msg_{rng.getrandbits(64):016x}",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": reply, "annotations": []}],
        }
    )
    return items


def _turn(writer: Writer, at: float, model: tuple[str, str]) -> ExportedTurn:
    rng = writer.rng
    user = writer.paragraph(1, 3)
    reply = writer.paragraph(3, 9)
    started = at + rng.uniform(0.01, 0.2)
    ended = started + rng.uniform(1, 20)
    call = _tool_call(rng, started + 0.5) if rng.randrange(TOOL_EVERY) == 0 else None
    return ExportedTurn(
        turn_id=f"msg-{_uuid(rng)}",
        user_text=user,
        status="done",
        reply=reply,
        tool_calls=[call] if call else [],
        input_tokens=len(user) // 4 + rng.randint(200, 4000),
        output_tokens=len(reply) // 4,
        queued_at=at,
        started_at=started,
        ended_at=ended,
        items=_items(user, reply, call, rng),
        model=model[0],
        provider=model[1],
    )


@dataclass(frozen=True)
class Made:
    conversation: ExportedConversation
    topic: str
    project: str  # the made-up name only this conversation (most likely) uses


def conversation(rng: random.Random, shape: DataShape, created_at: float) -> Made:
    topic = rng.choice(_TOPIC_NAMES)
    project = project_name(rng)
    writer = Writer(rng, topic, project)
    model = rng.choice(MODELS)
    turns: list[ExportedTurn] = []
    at = created_at
    for _ in range(shape.turns_per_conversation):
        turns.append(_turn(writer, at, model))
        at = (turns[-1].ended_at or at) + rng.uniform(5, 600)  # the user reads, then writes
    made = ExportedConversation(
        conversation_id=f"conversation-{_uuid(rng)}",
        title=title_from(turns[0].user_text),
        created_at=created_at,
        updated_at=turns[-1].ended_at or created_at,
        model=model[0],
        provider=model[1],
        turns=turns,
    )
    return Made(made, topic, project)


def conversations(shape: DataShape, now: float) -> Iterator[Made]:
    """``shape.conversations`` conversations begun over the year before ``now``."""
    rng = random.Random(shape.seed)
    for _ in range(shape.conversations):
        yield conversation(rng, shape, now - YEAR_S + rng.uniform(0, YEAR_S - 86_400))
