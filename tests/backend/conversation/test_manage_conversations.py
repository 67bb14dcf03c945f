"""Rename, search and delete conversations as the window does, on the real backend."""

from __future__ import annotations

import asyncio

from backend.client.api import DuraChatClient
from backend.client.errors import NoSuchConversation
from backend.stream.redis_stream import stream_key
from tests.support.chat import record_turn, with_client
from tests.support.serve_process import ServeProcess


def test_search_finds_titles_and_message_content(backend: ServeProcess) -> None:
    async def scenario(client: DuraChatClient) -> None:
        apples = await record_turn(client, "Tell me about Apples [demo tokens=3]")
        pears = await record_turn(client, "pears and plums [demo tokens=3]")
        await client.rename(pears.conversation_id, "Orchard notes")

        def ids(summaries: list) -> set[str]:
            return {s.conversation_id for s in summaries}

        assert apples.conversation_id in ids(await client.list("apples"))  # message, any case
        assert pears.conversation_id not in ids(await client.list("apples"))
        assert ids(await client.list("orchard")) >= {pears.conversation_id}  # title
        assert pears.conversation_id in ids(await client.list("w2 plums"))  # reply + message
        assert ids(await client.list("no-such-word-anywhere")) == set()
        everything = await client.list()
        assert {apples.conversation_id, pears.conversation_id} <= ids(everything)
        # Most recent first: the renamed one was touched last.
        order = [s.conversation_id for s in everything]
        assert order.index(pears.conversation_id) < order.index(apples.conversation_id)

    with_client(backend.data_dir, scenario)


def test_delete_removes_the_conversation_its_history_and_its_stream(
    backend: ServeProcess,
) -> None:
    async def scenario(client: DuraChatClient) -> None:
        keep = await record_turn(client, "keep me [demo tokens=3]")
        gone = await record_turn(client, "delete me [demo tokens=3]")
        assert await client.redis.exists(stream_key(gone.conversation_id))

        await client.delete(gone.conversation_id)

        listed = {s.conversation_id for s in await client.list()}
        assert gone.conversation_id not in listed and keep.conversation_id in listed
        # Temporal deletes the history in the background, soon after the request.
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            try:
                await client.history(gone.conversation_id)
            except NoSuchConversation:
                break
            assert asyncio.get_running_loop().time() < deadline, "history still there"
            await asyncio.sleep(0.1)
        assert not await client.redis.exists(stream_key(gone.conversation_id))
        # Deleting twice (a second window, a stale list) is not an error.
        await client.delete(gone.conversation_id)
        assert (await client.history(keep.conversation_id)).turns[0].status == "done"

    with_client(backend.data_dir, scenario)
