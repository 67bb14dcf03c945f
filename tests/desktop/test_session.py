"""The chat session on its own, no window: driven through its methods, watched through
its signals, against a real backend (``durachat serve``)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
import qasync

from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from desktop.backend_link import BackendLink
from desktop.session import ChatSession
from tests.desktop.conftest import Emissions, SettledTurns, until
from tests.support.serve_process import ServeProcess


class Linked:
    """A session and the link to the module's backend, wired as the window wires them."""

    def __init__(self, backend: ServeProcess) -> None:
        self.data = DataDir(backend.data_dir)
        self.link = BackendLink(self.data, supervise=False)
        self.session = ChatSession(self.data)
        self.link.ready.connect(self.session.attach)
        self.ready = Emissions(self.session.backend_ready)

    async def connect(self) -> None:
        self.link.start()
        await self.ready.wait_for(timeout=15, what="session ready")

    async def close(self) -> None:
        shut_down = Emissions(self.session.shut_down)
        await self.session.shutdown()
        await self.link.stop()
        await shut_down.wait_for(timeout=1, what="shut down")


@pytest.fixture
def linked(backend: ServeProcess, loop: qasync.QEventLoop) -> Iterator[Linked]:
    """The session, started (the stored list shown) but not yet connected."""
    made = Linked(backend)
    made.session.start()
    yield made
    loop.run_until_complete(made.close())


def temporal_pid(backend: ServeProcess) -> int:
    info = RuntimeInfo.read(DataDir(backend.data_dir).runtime_file)
    assert info is not None
    return info.children["temporal"].pid


def test_a_sent_message_starts_a_turn_that_settles_done_with_its_reply(
    linked: Linked, loop: qasync.QEventLoop
) -> None:
    session = linked.session
    started = Emissions(session.turn_started)
    settled = SettledTurns(session)
    listed = Emissions(session.conversations_changed)
    opened = Emissions(session.conversation_opened)

    async def scenario() -> None:
        await linked.connect()
        session.new_conversation()
        session.send_message("[demo tokens=7]")
        (turn_id,) = session.model.turns
        conversation_id = session.conversation_id
        assert conversation_id is not None
        assert (conversation_id,) in opened.seen  # a new conversation, made by sending
        assert await started.wait_for(lambda _c, t: t == turn_id, 10, "started") == (
            conversation_id,
            turn_id,
        )
        assert await settled.status_of(turn_id) == "done"
        assert session.model.turns[turn_id].reply == "".join(counted_tokens(7))
        # The list is read again once the reply ended: listed, not generating.
        (summaries,) = await listed.wait_for(
            lambda s: any(c.conversation_id == conversation_id and not c.running for c in s),
            10,
            "listed as done",
        )
        assert summaries[0].conversation_id == conversation_id  # most recent first

    loop.run_until_complete(scenario())


def test_stop_ends_the_turn_as_stopped_and_keeps_what_was_said(
    linked: Linked, loop: qasync.QEventLoop
) -> None:
    session = linked.session
    settled = SettledTurns(session)
    full = "".join(counted_tokens(400))

    async def scenario() -> None:
        await linked.connect()
        session.new_conversation()
        session.send_message("[demo tokens=400 tps=50]")
        (turn_id,) = session.model.turns
        await until(lambda: "w5 " in session.model.turns[turn_id].reply, 20, "tokens")
        assert session.model.running_turn_id == turn_id
        session.stop_turn()
        assert await settled.status_of(turn_id) == "stopped"
        reply = session.model.turns[turn_id].reply
        assert "w5 " in reply and full.startswith(reply) and reply != full

    loop.run_until_complete(scenario())


def test_a_message_sent_before_the_backend_is_connected_is_held_then_delivered(
    linked: Linked, loop: qasync.QEventLoop
) -> None:
    session = linked.session
    started = Emissions(session.turn_started)
    settled = SettledTurns(session)

    async def scenario() -> None:
        session.new_conversation()
        session.send_message("[demo tokens=4]")  # no backend yet: kept, shown held
        (turn_id,) = session.model.turns
        assert session.model.turns[turn_id].status == "held"
        assert turn_id in session.outbox and started.seen == []
        await linked.connect()  # delivered once connected
        assert await settled.status_of(turn_id) == "done"
        assert turn_id not in session.outbox
        assert session.model.turns[turn_id].reply == "".join(counted_tokens(4))
        assert [args[1] for args in started.seen] == [turn_id]

    loop.run_until_complete(scenario())


def test_messages_held_while_temporal_does_not_answer_are_delivered_in_order(
    backend: ServeProcess, linked: Linked, loop: qasync.QEventLoop
) -> None:
    session = linked.session
    settled = SettledTurns(session)
    statuses = Emissions(session.status_changed)

    async def scenario() -> None:
        await linked.connect()
        session.new_conversation()
        frozen = temporal_pid(backend)
        os.kill(frozen, signal.SIGSTOP)  # Temporal stops answering, as a hung server would
        try:
            session.send_message("first while frozen [demo tokens=2]")
            (first,) = session.model.turns
            session.send_message("second while frozen [demo tokens=3]")
            (second,) = set(session.model.turns) - {first}
            await until(lambda: session.model.turns[second].status == "held", 30, "held")
            assert session.model.turns[first].status == "held"
            await statuses.wait_for(lambda line: "2 message(s) held" in line, 1, "said held")
        finally:
            os.kill(frozen, signal.SIGCONT)
        assert await settled.status_of(first, 60) == "done"
        assert await settled.status_of(second, 60) == "done"
        await statuses.wait_for(lambda line: line == "Held messages sent", 5, "said sent")
        assert session.outbox.pending() == []
        assert linked.link.client is not None and session.conversation_id is not None
        view = await linked.link.client.history(session.conversation_id)
        assert [t.user_text for t in view.turns] == [
            "first while frozen [demo tokens=2]",
            "second while frozen [demo tokens=3]",
        ]
        assert [t.reply for t in view.turns] == [
            "".join(counted_tokens(2)),
            "".join(counted_tokens(3)),
        ]

    loop.run_until_complete(scenario())
