"""The worker's payload converter: the OpenAI Agents plugin's, minus one per-call cost.

Every model call's activity input carries the whole conversation so far. The
plugin's converter validates it item by item against the union of every input
item type the Responses API has (each a TypedDict), which costs about 1.5 ms per
60 KB of conversation on this machine, on every model call, growing with every
turn. Here the items are taken as parsed: the dicts the agents SDK made of them
(``to_input_list``), which is what the SDK itself sends back to the model outside
Temporal. Validation would also have dropped keys the installed openai package
does not declare (``provider_data``, which the SDK reads, among them) and turned
an assistant message's content into a one-shot iterator. Everything else in the
input is validated as before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter
from temporalio.openai_agents import OpenAIPayloadConverter

# Not exported by the plugin, which is pinned in pyproject.toml;
# tests/backend/test_worker_payload_converter.py fails if it moves.
from temporalio.openai_agents._invoke_model_activity import ActivityModelInput
from temporalio.plugin import SimplePlugin

_JSON = b"json/plain"


class WorkerPayloadConverter(OpenAIPayloadConverter):
    def from_payloads(
        self, payloads: Sequence[Payload], type_hints: list[type] | None = None
    ) -> list[Any]:
        if (
            type_hints == [ActivityModelInput]
            and len(payloads) == 1
            and payloads[0].metadata.get("encoding") == _JSON
        ):
            raw = json.loads(payloads[0].data)
            items = raw.get("input") if isinstance(raw, dict) else None
            if isinstance(items, list):
                rest = Payload(
                    metadata=payloads[0].metadata,
                    data=json.dumps({**raw, "input": []}).encode(),
                )
                (model_input,) = super().from_payloads([rest], type_hints)
                model_input["input"] = items
                return [model_input]
        return super().from_payloads(payloads, type_hints)


def _with_worker_converter(converter: DataConverter | None) -> DataConverter:
    if converter is None:
        return DataConverter(payload_converter_class=WorkerPayloadConverter)
    return dataclasses.replace(converter, payload_converter_class=WorkerPayloadConverter)


def worker_payload_converter_plugin() -> SimplePlugin:
    """Puts ``WorkerPayloadConverter`` in place of the OpenAI Agents plugin's; goes
    after that plugin. (Given to ``Client.connect`` itself, the converter would fail
    that plugin's type check, which looks at the SDK's wrapper around a converter.)"""
    return SimplePlugin("durachat.payload-converter", data_converter=_with_worker_converter)
