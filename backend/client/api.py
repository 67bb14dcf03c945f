"""The one async API the window and the CLI use to talk to a running backend.

Durable state comes from the conversation workflows (signals in, queries out);
the live view comes from each conversation's Redis stream. Nothing else of
Temporal or Redis is visible to callers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import redis.asyncio as aioredis
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from backend.client.errors import (
    BackendNotRunning,
    BackendUnreachable,
    ConversationUnreadable,
    MessageRejected,
    NoSuchConversation,
)
from backend.client.search import matches
from backend.encryption.payload_key import require_keys
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from backend.stream.events import TERMINAL_TYPES, StreamEvent
from backend.stream.redis_stream import Delivered, EventReader, marks_key, seq_key, stream_key
from backend.supervisor.lock import DataDirLock
from backend.temporal_connect import NAMESPACE, TASK_QUEUE, connect
from backend.workflows.carried_state import fit_for_carry
from backend.workflows.conversation_types import (
    MAX_MESSAGE_BYTES,
    MAX_TITLE_CHARS,
    ConversationArgs,
    ConversationState,
    ConversationView,
    HistoryLimits,
    UserMessage,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

WORKFLOW_TYPE = "Conversation"
# What conversation ids look like (the client makes them: see new_conversation_id);
# only such an id goes into a visibility query.
_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
# What DefaultFailureConverterWithEncodedAttributes leaves of a failure's message (the
# real one is sealed): a query failure saying so came from our workflow, any other from
# the server. (tests/backend/conversation/test_hostile_input.py tells the two apart.)
_OUR_FAILURE = "Encoded failure"
# How the server refuses a query of a run that ended before its first workflow task;
# its other refusals of a query (no worker polls, a first task still to run) pass.
# (The same test tells them apart.)
_ENDED_UNSTARTED = "closed before WorkflowTaskStarted"
# A query that waits for a worker to come back: long enough for a restart.
QUERY_TIMEOUT = timedelta(seconds=10)
# Runs that hold a conversation: running, or ended by something other than the
# conversation itself (terminated by a limit or by hand, timed out, failed). A run that
# completed was given input that was not DuraChat's; one continued as new has a successor.
_HOLDING_CONVERSATIONS = (
    f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus != 'Completed' "
    "AND ExecutionStatus != 'ContinuedAsNew'"
)
# The workflow carries a conversation's text (twice: its turns and the agent's
# items) through continue-as-new, in one payload that Temporal caps near 2 MB; past
# this budget a conversation could no longer continue, so it refuses more text.
MAX_CONVERSATION_BYTES = 1_020_000
# What ``send`` assumes a reply adds to a conversation until a history view says
# how much it really did: while the last view's size, the messages sent since and
# this much per message clearly fit, ``send`` needs no history query (one round trip
# to the worker less before the first token).
ASSUMED_REPLY_BYTES = 128 * 1024


def new_conversation_id() -> str:
    return f"conversation-{uuid.uuid4()}"


def new_message_id() -> str:
    return f"msg-{uuid.uuid4()}"


def encoded_size(text: str) -> int:
    """Bytes the text takes in a Temporal payload (JSON: control characters grow six-fold)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def conversation_size(view: ConversationView) -> int:
    return sum(
        encoded_size(t.user_text)
        + encoded_size(t.reply)
        + encoded_size(t.reasoning)
        + sum(encoded_size(c.arguments) + encoded_size(c.output or "") for c in t.tool_calls)
        for t in view.turns
    )


def check_message(text: str) -> None:
    if not text.strip():
        raise MessageRejected("the message is empty")
    try:
        size = encoded_size(text)
    except UnicodeEncodeError:
        raise MessageRejected("the message holds characters that are not valid Unicode") from None
    if size > MAX_MESSAGE_BYTES:
        raise MessageRejected(
            f"the message is {size / 1e6:.1f} MB; the limit is {MAX_MESSAGE_BYTES / 1e6:.1f} MB "
            "(attach less text)"
        )


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    message_id: str
    stream_after: str  # the stream id before the message: follow from here for its turn


@dataclass
class ConversationSummary:
    conversation_id: str
    title: str
    updated_at: float
    running: bool
    error: str | None = None  # why the conversation cannot be read now, if it cannot


def check_title(title: str) -> str:
    """The title as the workflow will keep it, or MessageRejected."""
    title = " ".join(title.split())
    if not title:
        raise MessageRejected("the title is empty")
    if len(title) > MAX_TITLE_CHARS:
        raise MessageRejected(
            f"the title is {len(title)} characters long; the limit is {MAX_TITLE_CHARS}"
        )
    return title


class DuraChatClient:
    def __init__(self, info: RuntimeInfo, temporal: Client, redis: aioredis.Redis) -> None:
        self.info = info
        self.temporal = temporal
        self.redis = redis
        self.reader = EventReader(redis)
        self.limits = HistoryLimits()
        # Per conversation: its size in the last history view, plus what was sent since.
        self._size_bound: dict[str, int] = {}
        # Per conversation: the live stream's position at the end of the last turn
        # followed here to its end (never moved back).
        self._followed_to: dict[str, str] = {}
        # Deleted here: Temporal removes a deleted run from its listings moments later.
        self._deleted: set[str] = set()

    @classmethod
    async def connect(cls, data: DataDir) -> DuraChatClient:
        info = RuntimeInfo.read(data.runtime_file)
        if info is None or not DataDirLock(data).is_held_elsewhere():
            raise BackendNotRunning(f"no DuraChat backend is running on {data.root}")
        return await cls.connect_to(info)

    @classmethod
    async def connect_to(cls, info: RuntimeInfo) -> DuraChatClient:
        keys = require_keys()  # PayloadKeyError says what is wrong with the key
        try:
            temporal = await connect(info.temporal, keys)
        except RuntimeError as exc:  # what the Temporal client raises for a failed connect
            raise BackendUnreachable(
                f"the backend on {info.data_dir} does not answer at {info.temporal} ({exc}); "
                "it may still be starting, or stuck: if this lasts, quit DuraChat and start it "
                "again"
            ) from None
        redis = aioredis.Redis.from_url(info.redis_url(), socket_connect_timeout=2)
        return cls(info, temporal, redis)

    async def close(self) -> None:
        await self.redis.aclose()

    # -- commands ----------------------------------------------------------------------

    async def send(
        self,
        text: str,
        conversation_id: str | None = None,
        message_id: str | None = None,
        *,
        must_exist: bool = False,
    ) -> Sent:
        """Send a user message (starting the conversation if new). Resending the same
        ``message_id`` is safe: the workflow applies it once. With ``must_exist``, a
        ``conversation_id`` that names no conversation raises NoSuchConversation
        instead of starting one under that id."""
        check_message(text)
        named = conversation_id is not None
        if conversation_id is not None:
            await self._check_room(conversation_id, text, must_exist)
        conversation_id = conversation_id or new_conversation_id()
        message_id = message_id or new_message_id()
        after = await self._stream_position(conversation_id)
        message = UserMessage(message_id=message_id, text=text)
        if conversation_id in self._size_bound:
            # Seen running: a plain signal is a cheaper server call than signal-with-start.
            try:
                await self.temporal.get_workflow_handle(conversation_id).signal("send", message)
                return Sent(conversation_id, message_id, after)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
        carried = await self._state_to_carry(conversation_id) if named else None
        await self._start(conversation_id, carried, message)
        return Sent(conversation_id, message_id, after)

    async def _state_to_carry(self, conversation_id: str) -> ConversationState | None:
        """What a new run of this conversation starts from: None for a new or running
        conversation, else the state its last run ended with (a run ended by a limit or
        by hand), so the conversation goes on where it was instead of starting empty.
        Runs that hold no conversation (someone else's input) are passed over."""
        try:
            described = await self.temporal.get_workflow_handle(conversation_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if described.status == WorkflowExecutionStatus.RUNNING:
            return None
        runs = await self._holding_runs(conversation_id)
        for run_id in runs:
            try:
                state = await self._query(
                    conversation_id, run_id, "state", ConversationState, QUERY_TIMEOUT
                )
            except ConversationUnreadable:
                continue  # a run that holds no conversation, or never started
            if state is not None:
                return state
        if runs:
            raise ConversationUnreadable(
                f"conversation {conversation_id} ended and none of its runs can be read "
                f"(see {self.info.log_dir}/worker.log)"
            )
        return None

    async def _holding_runs(self, conversation_id: str) -> list[str]:
        """The ids of the runs that may hold this conversation, newest first."""
        if not _CONVERSATION_ID.fullmatch(conversation_id):
            return []  # not an id DuraChat makes (and not one to put in a query)
        runs: list[tuple[float, str]] = []
        async for wf in self.temporal.list_workflows(
            f"WorkflowId = '{conversation_id}' AND {_HOLDING_CONVERSATIONS}"
        ):
            runs.append((wf.start_time.timestamp() if wf.start_time else 0.0, wf.run_id))
        return [run_id for _, run_id in sorted(runs, reverse=True)]

    async def _check_room(self, conversation_id: str, text: str, must_exist: bool) -> None:
        """Refuse text a conversation cannot carry any more (see MAX_CONVERSATION_BYTES).

        Needs the conversation's history unless the last view seen of it shows room
        enough (see ASSUMED_REPLY_BYTES): while the history cannot be had (the worker
        restarting) this raises TimeoutError, so the outbox keeps the message and
        tries again; a conversation that does not exist yet has room.
        """
        adds = encoded_size(text) + ASSUMED_REPLY_BYTES
        bound = self._size_bound.get(conversation_id)
        if bound is not None and bound + adds <= MAX_CONVERSATION_BYTES:
            self._size_bound[conversation_id] = bound + adds
            return
        try:
            view = await asyncio.wait_for(self.history(conversation_id, timeout=2), 3)
        except NoSuchConversation:
            if must_exist:
                raise
            return
        total = conversation_size(view) + encoded_size(text)
        self._size_bound[conversation_id] = total + ASSUMED_REPLY_BYTES
        if total > MAX_CONVERSATION_BYTES:
            raise MessageRejected(
                f"this conversation is too long to go on ({total / 1e6:.2f} MB of text; the "
                f"limit is {MAX_CONVERSATION_BYTES / 1e6:.2f} MB): start a new conversation"
            )

    async def stop(self, conversation_id: str, turn_id: str | None = None) -> None:
        await self.temporal.get_workflow_handle(conversation_id).signal("stop", turn_id)

    async def rename(self, conversation_id: str, title: str) -> None:
        title = check_title(title)
        await self.temporal.get_workflow_handle(conversation_id).signal("rename", title)

    async def delete(self, conversation_id: str) -> None:
        """Delete a conversation for good: its workflow (a reply in progress ends with
        it), its durable history and its live stream."""
        # The newest run first (a running one is terminated), then every earlier run:
        # one ended from outside would otherwise be listed again. Temporal does the
        # deleting in the background, moments later.
        runs = [None, *await self._all_runs(conversation_id)]
        for run_id in runs:
            try:
                await self.temporal.workflow_service.delete_workflow_execution(
                    DeleteWorkflowExecutionRequest(
                        namespace=NAMESPACE,
                        workflow_execution={"workflow_id": conversation_id, "run_id": run_id},
                    )
                )
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
        await self.redis.delete(
            stream_key(conversation_id), seq_key(conversation_id), marks_key(conversation_id)
        )
        self._size_bound.pop(conversation_id, None)
        self._followed_to.pop(conversation_id, None)
        self._deleted.add(conversation_id)

    async def _all_runs(self, conversation_id: str) -> list[str]:
        if not _CONVERSATION_ID.fullmatch(conversation_id):
            return []
        return [
            wf.run_id
            async for wf in self.temporal.list_workflows(f"WorkflowId = '{conversation_id}'")
        ]

    # -- durable state -------------------------------------------------------------------

    async def history(self, conversation_id: str, timeout: float | None = None) -> ConversationView:
        """The durable conversation. A query needs a worker: with no worker running it
        waits for one, so callers that must not stall pass a ``timeout`` (seconds).

        Raises NoSuchConversation, or ConversationUnreadable when no run of it can
        answer (its history does not replay, a payload it holds is over a limit).
        """
        try:
            view = await self._view(conversation_id, None, timeout)
        except ConversationUnreadable:
            # The newest run under this id may not be the conversation's (a run ended
            # from outside, someone else's input): ask the runs that may hold it.
            for run_id in await self._holding_runs(conversation_id):
                try:
                    view = await self._view(conversation_id, run_id, timeout)
                    break
                except ConversationUnreadable:
                    continue
            else:
                raise
        self._size_bound[conversation_id] = conversation_size(view)
        return view

    async def _view(
        self, conversation_id: str, run_id: str | None, timeout: float | None
    ) -> ConversationView:
        return await self._query(
            conversation_id,
            run_id,
            "history",
            ConversationView,
            timedelta(seconds=timeout) if timeout else None,
        )

    async def _query(
        self,
        conversation_id: str,
        run_id: str | None,
        name: str,
        result_type: type[T],
        timeout: timedelta | None,
    ) -> T:
        """A query of one run, its failures said in this API's terms: NoSuchConversation;
        ConversationUnreadable when the run cannot answer (its workflow failed the query,
        or it never started); TimeoutError when no worker can answer now."""
        handle = self.temporal.get_workflow_handle(conversation_id, run_id=run_id)
        try:
            return await handle.query(name, result_type=result_type, rpc_timeout=timeout)
        except WorkflowQueryFailedError as exc:
            if str(exc) != _OUR_FAILURE:
                # Said by the server, not by the workflow: no worker polls right now.
                raise TimeoutError(
                    f"the backend cannot answer for {conversation_id} now ({exc})"
                ) from None
            raise ConversationUnreadable(
                f"conversation {conversation_id} cannot be read: the worker could not "
                f"answer for it (see {self.info.log_dir}/worker.log)"
            ) from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NoSuchConversation(f"no such conversation: {conversation_id}") from None
            if exc.status == RPCStatusCode.FAILED_PRECONDITION:
                if _ENDED_UNSTARTED in exc.message:  # will never answer
                    raise ConversationUnreadable(
                        f"conversation {conversation_id} cannot be read: {exc.message}"
                    ) from None
                # No worker polls, or the run's first task has not run yet.
                raise TimeoutError(
                    f"the backend cannot answer for {conversation_id} now ({exc.message})"
                ) from None
            raise BackendUnreachable(f"the backend refused the request: {exc.message}") from exc

    async def list(self, search: str = "") -> list[ConversationSummary]:
        """The conversations, most recent first; with ``search``, only those whose
        title or messages contain every word of it."""
        latest: dict[str, tuple[float, bool]] = {}  # id -> its newest run: started, running
        async for wf in self.temporal.list_workflows(_HOLDING_CONVERSATIONS):
            if wf.id in self._deleted:
                continue
            started = wf.start_time.timestamp() if wf.start_time else 0.0
            if wf.id not in latest or started > latest[wf.id][0]:
                latest[wf.id] = (started, wf.status == WorkflowExecutionStatus.RUNNING)
        ended = [i for i, (_started, running) in latest.items() if not running]
        if ended:
            await asyncio.gather(*(self._revive(i) for i in ended))
        summaries = await asyncio.gather(
            *(self._summary(i, started, search) for i, (started, _r) in latest.items())
        )
        return sorted(
            (s for s in summaries if s is not None), key=lambda s: s.updated_at, reverse=True
        )

    async def _revive(self, conversation_id: str) -> None:
        """Start a new run of a conversation whose run was ended from outside (by a
        limit, by hand, by another user), from the state it ended with: the dev server
        deletes ended runs a day later, and the conversation with them. One that cannot
        be read stays listed with the reason."""
        try:
            state = await self._state_to_carry(conversation_id)
        except (ConversationUnreadable, BackendUnreachable, RPCError, TimeoutError) as exc:
            log.warning("could not carry on conversation %s: %s", conversation_id, exc)
            return
        if state is not None:
            await self._start(conversation_id, state)

    async def _start(
        self,
        conversation_id: str,
        state: ConversationState | None,
        message: UserMessage | None = None,
    ) -> None:
        """Start a run of the conversation from ``state`` (None: a new conversation),
        with ``message`` as its first signal; a run already going takes the message."""
        await self.temporal.start_workflow(
            WORKFLOW_TYPE,
            ConversationArgs(
                conversation_id=conversation_id,
                state=fit_for_carry(state) if state is not None else None,
                limits=self.limits,
            ),
            id=conversation_id,
            task_queue=TASK_QUEUE,
            # Another client starting it at the same moment: one run, not two.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="send" if message is not None else None,
            start_signal_args=[message] if message is not None else [],
        )

    async def _summary(
        self, conversation_id: str, started: float, search: str
    ) -> ConversationSummary | None:
        """None for a conversation that cannot answer now (deleted meanwhile, its worker
        restarting) or does not match: the list shows the others rather than wait. One
        that cannot be read at all is listed with the reason, never breaking the list."""
        try:
            view = await self._history_now(conversation_id, timeout=2)
        except NoSuchConversation:
            return None  # deleted after the listing was made
        except ConversationUnreadable as exc:
            if search and search.casefold() not in conversation_id.casefold():
                return None
            return ConversationSummary(conversation_id, conversation_id, started, False, str(exc))
        if view is None or not matches(view, search):
            return None
        return ConversationSummary(
            view.conversation_id, view.title, view.updated_at, view.running_turn_id is not None
        )

    # -- the live stream -----------------------------------------------------------------

    async def _stream_position(self, conversation_id: str) -> str:
        """Where the next turn's events will be: after the end of the last turn followed
        here, else after the stream's end (one Redis round trip, saved on every turn
        followed). Either way no event of the next turn is before it: stream ids only
        grow, even in a stream Redis lost and began again (ids are times)."""
        if (followed := self._followed_to.get(conversation_id)) is not None:
            return followed
        try:
            return await self.reader.last_id(conversation_id)
        except (aioredis.RedisError, OSError):
            return "0-0"  # Redis is down: the history still tells the outcome

    async def follow_turn(
        self, conversation_id: str, turn_id: str, after: str = "0-0", poll_every: float = 1.0
    ) -> AsyncIterator[StreamEvent | ConversationView]:
        """Yield the live events of one turn until it ends, then the history view.

        When the stream goes quiet (Redis down, events trimmed), the history is
        checked every ``poll_every`` seconds, so a finished turn is never missed.
        """
        seen = Delivered()  # shared with the closing read, so nothing comes twice
        async for position, event in self.reader.follow(
            conversation_id, after, block_ms=int(poll_every * 1000), seen=seen
        ):
            if event is None:
                view = await self._history_now(conversation_id, timeout=poll_every)
                turn = next((t for t in view.turns if t.turn_id == turn_id), None) if view else None
                if turn is not None and turn.status in ("done", "failed", "stopped"):
                    # The turn's last events may have reached Redis while the history
                    # was asked for: deliver them before closing on the history.
                    for late in await self._rest_of_stream(conversation_id, position, seen):
                        if late.turn_id == turn_id:
                            yield late
                    yield view
                    return
                continue
            if event.turn_id != turn_id:
                continue
            yield event
            if event.type in TERMINAL_TYPES:
                self._note_followed(conversation_id, position)
                # The turn is over in the workflow; its history may take a moment if a
                # part of the backend is restarting right now.
                while (view := await self._history_now(conversation_id, timeout=2)) is None:
                    await asyncio.sleep(poll_every / 2)
                yield view
                return

    def _note_followed(self, conversation_id: str, position: str) -> None:
        known = self._followed_to.get(conversation_id)
        if known is None or _stream_id(position) > _stream_id(known):
            self._followed_to[conversation_id] = position

    async def _rest_of_stream(
        self, conversation_id: str, after: str, seen: Delivered
    ) -> list[StreamEvent]:
        try:
            rest = await self.reader.read_range(conversation_id, after, seen)
            return [event for _id, event in rest]
        except (aioredis.RedisError, OSError):
            return []  # Redis is down: the history is all there is

    async def _history_now(self, conversation_id: str, timeout: float) -> ConversationView | None:
        """The history if it can be had within ``timeout``; None while Temporal or the
        worker is restarting (the live stream goes on meanwhile). A conversation that
        no longer exists raises NoSuchConversation; one that cannot answer,
        ConversationUnreadable."""
        try:
            return await asyncio.wait_for(self.history(conversation_id, timeout), timeout + 1)
        except (RPCError, BackendUnreachable):
            return None
        except TimeoutError:
            return None


def _stream_id(position: str) -> tuple[int, int]:
    millis, _, seq = position.partition("-")
    return int(millis), int(seq or 0)
