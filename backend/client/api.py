"""The one async API the window and the CLI use to talk to DuraChat.

Reading (``list``, ``history``, search, export) comes from the conversation store
in the data dir and never needs the worker; sending, stopping and renaming are
signals to the conversation's workflow; the live view of a turn comes from the
conversation's Redis stream. Nothing of Temporal or Redis is visible to callers:
their failures arrive as the errors of ``backend.client.errors``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import redis.asyncio as aioredis
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from backend.client.errors import (
    ApprovalNotPending,
    BackendNotRunning,
    BackendUnreachable,
    EncryptionKeyUnavailable,
    MessageRejected,
    NoSuchConversation,
)
from backend.client.store import ConversationStore
from backend.client.store_types import HeldMessage
from backend.encryption.payload_key import PayloadKeyError, require_keys
from backend.local.paths import DataDir
from backend.local.runtime_info import RuntimeInfo
from backend.local.settings import Settings, SettingsError, set_tool_policy
from backend.mcp import config as mcp_config
from backend.mcp.config import McpConfigError
from backend.mcp.status import read_statuses
from backend.stream.events import TERMINAL_TYPES, StreamEvent
from backend.stream.redis_stream import Delivered, EventReader, marks_key, seq_key, stream_key
from backend.supervisor.lock import DataDirLock
from backend.temporal_connect import NAMESPACE, TASK_QUEUE, connect
from backend.tools.setup import setup_from_files
from backend.workflows.conversation_types import (
    DEFAULT_CONTEXT_TOKENS,
    MAX_MESSAGE_BYTES,
    MAX_TITLE_CHARS,
    ApprovalDecision,
    ConversationArgs,
    ConversationState,
    ConversationView,
    HistoryLimits,
    PendingApproval,
    UserMessage,
)
from backend.workflows.model_context import context_turn

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long a decision is offered again to a workflow catching up with its own wait.
DECIDE_CATCH_UP_S = 30.0

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
# How many of a conversation's newest turns a follower reads when its turn ends.
RECENT_TURNS = 20
# Runs that hold a conversation: running, or ended by something other than the
# conversation itself (terminated by a limit or by hand, timed out, failed). A run that
# completed was given input that was not DuraChat's; one continued as new has a successor.
_HOLDING_CONVERSATIONS = (
    f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus != 'Completed' "
    "AND ExecutionStatus != 'ContinuedAsNew'"
)


def new_conversation_id() -> str:
    return f"conversation-{uuid.uuid4()}"


def new_message_id() -> str:
    return f"msg-{uuid.uuid4()}"


def encoded_size(text: str) -> int:
    """Bytes the text takes in a Temporal payload (JSON: control characters grow six-fold)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


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


@dataclass(slots=True)
class ConversationSummary:
    conversation_id: str
    title: str
    updated_at: float
    running: bool
    error: str | None = None  # why the conversation cannot be read now, if it cannot


def read_history(
    store: ConversationStore,
    conversation_id: str,
    *,
    last: int | None = None,
    before: str | None = None,
) -> ConversationView:
    """A conversation's history from the store, with the turn being answered marked
    running: the workflow answers in order, so it is the first one the backend has
    (not held) and has not finished. The store learns how a turn ended, not when it
    began: the live stream says that."""
    view = store.history(conversation_id, last=last, before=before)
    unfinished = [t for t in view.turns if t.status in ("queued", "running")]
    if unfinished and view.running_turn_id is None:
        held = {m.message_id for m in store.undelivered()}
        answering = next((t for t in unfinished if t.turn_id not in held), None)
        if answering is not None:
            answering.status = "running"
            view.running_turn_id = answering.turn_id
    return view


def list_summaries(store: ConversationStore, search: str = "") -> list[ConversationSummary]:
    return [
        ConversationSummary(cid, title, updated, bool(running))
        for cid, title, updated, running in store.list_rows(search)
    ]


def web_ui_url(web_ui: str | None, conversation_id: str) -> str | None:
    """The conversation's workflow page in Temporal's Web UI at ``web_ui`` (None: the
    backend runs without the Web UI)."""
    if not web_ui:
        return None
    return (
        f"{web_ui.rstrip('/')}/namespaces/{NAMESPACE}/workflows/{quote(conversation_id, safe='')}"
    )


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
    def __init__(
        self,
        info: RuntimeInfo,
        temporal: Client,
        redis: aioredis.Redis,
        store: ConversationStore,
    ) -> None:
        self.info = info
        self.temporal = temporal
        self.redis = redis
        self.store = store
        self.reader = EventReader(redis)
        self.limits = HistoryLimits()
        self._settings_file = Path(info.data_dir) / "settings.json"
        # Conversations whose workflow was seen taking a message here: a plain signal
        # is a cheaper server call than signal-with-start (which reads the store).
        self._running: set[str] = set()
        # Per conversation: the live stream's position at the end of the last turn
        # followed here to its end (never moved back).
        self._followed_to: dict[str, str] = {}

    @classmethod
    async def connect(cls, data: DataDir) -> DuraChatClient:
        info = RuntimeInfo.read(data.runtime_file)
        if info is None or not DataDirLock(data).is_held_elsewhere():
            raise BackendNotRunning(f"no DuraChat backend is running on {data.root}")
        return await cls.connect_to(info)

    @classmethod
    async def connect_to(cls, info: RuntimeInfo) -> DuraChatClient:
        try:
            keys = require_keys()
        except PayloadKeyError as exc:  # its message says what is wrong with the key
            raise EncryptionKeyUnavailable(str(exc)) from None
        try:
            temporal = await connect(info.temporal, keys)
        except RuntimeError as exc:  # what the Temporal client raises for a failed connect
            raise BackendUnreachable(
                f"the backend on {info.data_dir} does not answer at {info.temporal} ({exc}); "
                "it may still be starting, or stuck: if this lasts, quit DuraChat and start it "
                "again"
            ) from None
        store = ConversationStore.in_data_dir(Path(info.data_dir))
        redis = aioredis.Redis.from_url(info.redis_url(), socket_connect_timeout=2)
        return cls(info, temporal, redis, store)

    async def close(self) -> None:
        """Let go of Redis and the store; never raises (a Redis already gone is fine)."""
        try:
            await self.redis.aclose()
        except (aioredis.RedisError, OSError) as exc:
            log.warning("closing the Redis connection failed: %s", exc)
        finally:
            self.store.close()

    def web_ui_url(self, conversation_id: str) -> str | None:
        """The conversation's workflow page in Temporal's Web UI, or None when the
        backend was started without the Web UI."""
        return web_ui_url(self.info.temporal_ui, conversation_id)

    # -- commands ----------------------------------------------------------------------

    async def send(
        self,
        text: str,
        conversation_id: str | None = None,
        message_id: str | None = None,
        *,
        must_exist: bool = False,
    ) -> Sent:
        """Send a user message (starting the conversation if new). The message is in
        the store before anything else, marked held until the workflow has it (see
        ``held``). Resending the same ``message_id`` is safe: it is applied once. With
        ``must_exist``, a ``conversation_id`` that names no conversation raises
        NoSuchConversation instead of starting one under that id."""
        check_message(text)
        if (
            must_exist
            and conversation_id is not None
            and self.store.get_conversation(conversation_id) is None
        ):
            raise NoSuchConversation(f"no such conversation: {conversation_id}")
        conversation_id = conversation_id or new_conversation_id()
        message_id = message_id or new_message_id()
        self.store.add_message(conversation_id, message_id, text, at=time.time(), delivered=False)
        after = await self._stream_position(conversation_id)
        if self._already_answered(conversation_id, message_id):
            self.store.mark_delivered(message_id)
            return Sent(conversation_id, message_id, after)
        message = self._message(message_id, text)
        try:
            await self._deliver(conversation_id, message)
        except RPCError as exc:
            raise BackendUnreachable(
                f"the backend did not take the message ({exc.message}); it is kept and "
                "sent again when the backend is back"
            ) from exc
        self.store.mark_delivered(message_id)
        return Sent(conversation_id, message_id, after)

    def held(self) -> list[HeldMessage]:
        """Messages sent but not yet taken by the backend, oldest first (the outbox)."""
        return self.store.undelivered()

    def _already_answered(self, conversation_id: str, message_id: str) -> bool:
        """A resent message whose turn the store already holds as finished: sending it
        again would answer it twice once the workflow has forgotten it."""
        turn = self.store.turn(conversation_id, message_id)
        return turn is not None and turn.status in ("done", "failed", "stopped")

    async def _deliver(self, conversation_id: str, message: UserMessage) -> None:
        if conversation_id in self._running:
            try:
                await self.temporal.get_workflow_handle(conversation_id).signal("send", message)
                return
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                self._running.discard(conversation_id)  # its run ended: start it again
        await self._start(conversation_id, message)
        self._running.add(conversation_id)

    async def _start(self, conversation_id: str, message: UserMessage) -> None:
        """Signal-with-start: a running workflow takes the message; else a new run
        starts from the store (the conversation's unfinished turns and the model's
        context), so a conversation whose run ended goes on with nothing lost."""
        state = await asyncio.to_thread(self._state_from_store, conversation_id)
        await self.temporal.start_workflow(
            WORKFLOW_TYPE,
            ConversationArgs(conversation_id=conversation_id, state=state, limits=self.limits),
            id=conversation_id,
            task_queue=TASK_QUEUE,
            # Another client starting it at the same moment: one run, not two.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="send",
            start_signal_args=[message],
        )

    def _state_from_store(self, conversation_id: str) -> ConversationState | None:
        record = self.store.get_conversation(conversation_id)
        if record is None:
            return None
        budget = self._context_tokens() or DEFAULT_CONTEXT_TOKENS
        context = self.store.context_turns(conversation_id, budget)
        return ConversationState(
            conversation_id=conversation_id,
            title=record.title,
            title_is_custom=record.title_is_custom,
            created_at=record.created_at,
            # Each is answered again from the start, in order (a run ended mid-reply).
            turns=[
                t.model_copy(update={"status": "queued", "tool_calls": [], "reply": ""})
                for t in self.store.unfinished_turns(conversation_id)
            ],
            context=[context_turn(turn_id, items, stored=True) for turn_id, items in context],
            context_tokens=budget,
        )

    def _message(self, message_id: str, text: str) -> UserMessage:
        """The message with what its turn needs from the settings: the model's context
        budget, and the tools (so the turn's first model call waits for neither)."""
        try:
            settings = Settings.load(self._settings_file)
        except SettingsError:
            # The worker says what is wrong with the file at the model call.
            return UserMessage(message_id=message_id, text=text)
        data = DataDir(Path(self.info.data_dir))
        try:
            tools = setup_from_files(
                mcp_config.load(data.mcp_file),
                read_statuses(data.mcp_status_file),
                settings.tool_policies,
            )
        except McpConfigError:
            tools = None  # the worker's own reading of mcp.json decides, and logs why
        return UserMessage(
            message_id=message_id,
            text=text,
            context_tokens=settings.context_budget(),
            tools=tools,
        )

    def _context_tokens(self) -> int | None:
        """The model's context budget the settings give (None: the workflow's default)."""
        try:
            return Settings.load(self._settings_file).context_budget()
        except SettingsError:
            return None  # the worker says what is wrong with the file at the model call

    async def stop(self, conversation_id: str, turn_id: str | None = None) -> None:
        try:
            await self.temporal.get_workflow_handle(conversation_id).signal("stop", turn_id)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise BackendUnreachable(f"the backend refused Stop: {exc.message}") from exc

    # -- tool approvals ------------------------------------------------------------------

    def approvals(self, conversation_id: str | None = None) -> list[PendingApproval]:
        """Tool calls waiting for the user's decision, oldest first (from the store)."""
        return self.store.pending_approvals(conversation_id)

    async def decide(
        self, call_id: str, *, allow: bool, always: bool = False, reason: str | None = None
    ) -> PendingApproval:
        """Allow (``always``: and from now on, this tool without asking) or deny a call
        that waits; the turn goes on. Raises ApprovalNotPending when none waits."""
        decision = ApprovalDecision(call_id=call_id, allow=allow, always=always, reason=reason)
        pending = next((p for p in self.store.pending_approvals() if p.call_id == call_id), None)
        if pending is None:
            raise ApprovalNotPending(f"no tool call {call_id} waits for approval")
        if allow and always:
            try:
                set_tool_policy(self._settings_file, pending.tool, "allow")
            except SettingsError as exc:
                raise MessageRejected(f"{exc}; the call was not approved") from None
        handle = self.temporal.get_workflow_handle(pending.conversation_id)
        deadline = time.monotonic() + DECIDE_CATCH_UP_S
        while True:
            try:
                await handle.execute_update("decide", decision)
                break
            except WorkflowUpdateFailedError as exc:
                cause = exc.cause.message if hasattr(exc.cause, "message") else str(exc.cause)
                # The store notes a waiting call in the same workflow task that begins the
                # wait; a worker that died before that task was recorded replays it on
                # the next task, which may be the one that brings this decision. While
                # the store still lists the call, it is asked again until it is taken.
                still = any(p.call_id == call_id for p in self.store.pending_approvals())
                if not still or time.monotonic() > deadline:
                    raise ApprovalNotPending(cause) from None
                await asyncio.sleep(0.25)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    raise ApprovalNotPending(
                        f"the conversation of tool call {call_id} is not running"
                    ) from None
                raise BackendUnreachable(
                    f"the backend refused the decision: {exc.message}"
                ) from exc
        return pending

    async def rename(self, conversation_id: str, title: str) -> None:
        title = check_title(title)
        if self.store.get_conversation(conversation_id) is None:
            raise NoSuchConversation(f"no such conversation: {conversation_id}")
        self.store.set_title(conversation_id, title, custom=True)
        try:  # the running workflow carries the title on; one not running needs nothing
            await self.temporal.get_workflow_handle(conversation_id).signal("rename", title)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                log.warning("%s did not take the new title: %s", conversation_id, exc.message)

    async def delete(self, conversation_id: str) -> None:
        """Delete a conversation for good: its workflow (a reply in progress ends with
        it), its live stream, and everything the store holds of it."""
        # The newest run first (a running one is terminated), then every earlier run.
        # Temporal does the deleting in the background, moments later.
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
                    raise BackendUnreachable(
                        f"the backend refused to delete {conversation_id}: {exc.message}"
                    ) from exc
        try:
            await self.redis.delete(
                stream_key(conversation_id), seq_key(conversation_id), marks_key(conversation_id)
            )
        except (aioredis.RedisError, OSError) as exc:
            # The store keeps the conversation: a second Delete finishes the job.
            raise BackendUnreachable(
                f"the live stream of {conversation_id} could not be deleted ({exc}); "
                "try again once the backend is back"
            ) from exc
        self.store.delete_conversation(conversation_id)
        self._running.discard(conversation_id)
        self._followed_to.pop(conversation_id, None)

    async def _all_runs(self, conversation_id: str) -> list[str]:
        if not _CONVERSATION_ID.fullmatch(conversation_id):
            return []
        try:
            return [
                wf.run_id
                async for wf in self.temporal.list_workflows(f"WorkflowId = '{conversation_id}'")
            ]
        except RPCError as exc:
            raise BackendUnreachable(
                f"the backend could not list the runs of {conversation_id}: {exc.message}"
            ) from exc

    # -- reading: the store --------------------------------------------------------------

    async def history(
        self,
        conversation_id: str,
        timeout: float | None = None,
        *,
        last: int | None = None,
        before: str | None = None,
    ) -> ConversationView:
        """The conversation as the store holds it (``last``: only the newest turns,
        before the turn ``before`` if given). Raises NoSuchConversation. ``timeout``
        is accepted for callers of the workflow-backed API; the store does not wait."""
        return read_history(self.store, conversation_id, last=last, before=before)

    async def list(self, search: str = "") -> list[ConversationSummary]:
        """The conversations, most recent first; with ``search``, only those whose
        title or messages contain every word of it."""
        return list_summaries(self.store, search)

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
                view = self._recent_history(conversation_id, turn_id)
                turn = next((t for t in view.turns if t.turn_id == turn_id), None)
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
                # The store had the turn before its end was published (end_turn).
                yield self._recent_history(conversation_id, turn_id)
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

    def _recent_history(self, conversation_id: str, turn_id: str) -> ConversationView:
        """The conversation's newest turns from the store, down to ``turn_id`` at least
        (the end of a turn must not cost a read of a long conversation's every turn)."""
        view = read_history(self.store, conversation_id, last=RECENT_TURNS)
        if view.earlier_turns and all(t.turn_id != turn_id for t in view.turns):
            view = read_history(self.store, conversation_id)
        return view


def _stream_id(position: str) -> tuple[int, int]:
    millis, _, seq = position.partition("-")
    return int(millis), int(seq or 0)
