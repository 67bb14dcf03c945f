"""The client side of the Workflow Streams path: start a conversation, ask and follow.

Reads the raw model events the plugin's streaming activity publishes, with
``WorkflowStreamClient``'s normal settings (100 ms poll cooldown). Free of the
Agents SDK: events arrive as plain dicts (the Responses API's stream events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamClient

# As registered by workflow.StreamedChatWorkflow (a test keeps them equal).
WORKFLOW_NAME = "BenchStreamedChat"
TOPIC = "model-events"
ASK_SIGNAL = "ask"
FINISH_SIGNAL = "finish"

_TEXT_DELTA = "response.output_text.delta"
_COMPLETED = "response.completed"


class ReplyIncomplete(RuntimeError):
    """The conversation's workflow ended before the reply completed."""


async def start_conversation(client: Client, workflow_id: str, task_queue: str) -> None:
    await client.start_workflow(WORKFLOW_NAME, id=workflow_id, task_queue=task_queue)


async def ask_and_follow(
    client: Client,
    workflow_id: str,
    prompt: str,
    on_text: Callable[[str], None],
    from_offset: int | None = None,
) -> int:
    """Ask ``prompt`` and call ``on_text`` with each text delta of the reply as it arrives.

    Returns on the reply's ``response.completed`` event, with the offset after it:
    pass that as ``from_offset`` to the next call, as a subscriber that follows a
    conversation would, and no query for the stream's end is needed (without it,
    one is made). Ask one prompt at a time: the subscription starts at the stream's
    end, so a reply still streaming then would be read as this one's.
    """
    stream = WorkflowStreamClient.create(client, workflow_id)
    # From the current end, so earlier replies' events are not read again.
    start = from_offset if from_offset is not None else await stream.get_offset()
    await client.get_workflow_handle(workflow_id).signal(ASK_SIGNAL, prompt)
    async for item in stream.subscribe(TOPIC, from_offset=start):
        event = item.data
        kind = event.get("type")
        if kind == _TEXT_DELTA:
            on_text(event["delta"])
        elif kind == _COMPLETED:
            return item.offset + 1
    # The iterator ends only when the workflow has closed.
    raise ReplyIncomplete(f"{workflow_id} ended before the reply to {prompt!r} completed")


async def finish(client: Client, workflow_id: str, timeout: float = 30) -> None:
    """End the conversation and wait until its workflow has completed."""
    handle = client.get_workflow_handle(workflow_id)
    await handle.signal(FINISH_SIGNAL)
    await asyncio.wait_for(handle.result(), timeout)
