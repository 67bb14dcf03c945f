"""One workflow per conversation (id ``conversation-<uuid>``): signals in, queries out.

Signals: ``send`` (a user message; a resent message id is ignored), ``stop`` (end
the running turn, keeping what was said), ``rename``. Update: ``decide`` (allow
or deny a tool call that waits for approval; its validator turns away any that
does not name one: see ``turn_tools``). Queries: ``history``, ``approvals``, and
``state`` (what a new run needs, to carry on a conversation whose run was ended).
Messages that arrive during a turn wait as queued turns, answered in order. Each
turn runs the agent with ``Runner.run`` under the OpenAI Agents plugin: model
calls and tools are activities, streamed live by the worker. Before the event
history nears Temporal's limits, the workflow continues as new with its state;
that is checked after every turn and every signal, so renames alone cannot
outgrow it either.

The conversation store holds everything said: a finished turn is written there
(``end_turn``) and only then dropped from the workflow's state, which keeps just
the turns waiting or running and the model's context (the newest turns within a
token budget: ``model_context``). So the state does not grow with the
conversation. Runs from before the store replay as they ran and keep every turn;
their next run writes the turns it carries to the store first.

Every input is a raw payload checked by ``trusted_input``: a malformed signal,
or one not encrypted with the user's key, is dropped with a log line, never
left to fail the workflow task for ever.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from agents import Agent, FunctionTool, RunConfig, Runner, RunResult
    from agents.items import ReasoningItem
    from pydantic import BaseModel, TypeAdapter

    from backend.stream.events import TurnDone, TurnFailed, TurnStarted
    from backend.tools.setup import ToolSetup
    from backend.workflows import trusted_input
    from backend.workflows.carried_state import fit_for_carry
    from backend.workflows.conversation_types import (
        MAX_MESSAGE_BYTES,
        MAX_QUEUED,
        MAX_TITLE_CHARS,
        ApprovalDecision,
        ConversationArgs,
        ConversationState,
        ConversationView,
        MessageId,
        PendingApproval,
        Title,
        Turn,
        TurnStatus,
        UserMessage,
        title_from,
    )
    from backend.workflows.model_context import (
        context_turn,
        model_input,
        split_by_turn,
        trimmed,
    )
    from backend.workflows.tool_budget import ToolOutputBudget
    from backend.workflows.trusted_input import InputRejected
    from backend.workflows.turn_activities import (
        EndTurn,
        RecordTurns,
        StoppedTurn,
        TurnActivities,
        TurnRecord,
    )
    from backend.workflows.turn_errors import classify, partial_reply
    from backend.workflows.turn_scope import CURRENT_TURN, RUNNING_AGENT, TurnScope
    from backend.workflows.turn_tools import TurnContext, TurnTools

INSTRUCTIONS = (
    "You are DuraChat's assistant. Answer clearly; use Markdown and fenced code blocks. "
    "Use the tools when they help: calculator for arithmetic, current_time for the date "
    "and time, list_files and read_file for the folder the user granted."
)
MAX_AGENT_TURNS = 12
LOCAL = timedelta(seconds=10)
# The first model call of a turn publishes ``turn_started`` (see StreamingModel).
TURN_STARTED_BY_MODEL = "turn-started-by-model"
# Continue-as-new is also checked after each signal while idle (histories from
# before checked it only after a turn).
CONTINUE_WHILE_IDLE = "continue-while-idle"
# Finished turns go to the conversation store and leave the state (see the module doc).
CONVERSATION_STORE = "conversation-store"
# A run from before the store continues as new before it answers a message, so the
# answer is written to the store (histories from before answered it the old way).
STORE_BEFORE_ANSWER = "store-before-answer"
# Tools from MCP servers and user policies, with approvals (see turn_tools); the
# patch names the turn, so a run whose replay answered "no" still uses them next.
TOOLS_AND_APPROVALS = "tools-and-approvals"
# Stop also keeps the turn from starting any new activity (see TurnScope.stopping);
# histories from before went on when a Stop met an activity's result.
STOP_BLOCKS_NEW_WORK = "stop-blocks-new-work"
# A store write waits out a full disk or a locked file: the turn stays in the state
# until it is written, however long that takes.
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10)
)
# Ids of written turns remembered, so that a message resent after its turn was
# written and dropped is still recognised (the client also checks the store).
RECENT_IDS = 200
FINISHED = ("done", "failed", "stopped")
# Temporal refuses payloads over 2 MB: a larger start input was not written by DuraChat.
MAX_ARGS_BYTES = 2_100_000
# A message's fields beside its text: its id, context budget and tool setup.
MESSAGE_EXTRAS_BYTES = 256 * 1024
# A rename's or stop's payload: a title (with the whitespace rename collapses) or an id.
MAX_SMALL_SIGNAL_BYTES = 64 * 1024

_ARGS = TypeAdapter(ConversationArgs)
_MESSAGE = TypeAdapter(UserMessage)
_TURN_ID = TypeAdapter(MessageId | None)
_TITLE = TypeAdapter(Title)
_NOTHING = TypeAdapter(None)
_DECISION = TypeAdapter(ApprovalDecision)


@workflow.defn(name="Conversation")
class ConversationWorkflow:
    @workflow.init
    def __init__(self, raw: RawValue) -> None:
        started = workflow.info().workflow_start_time.timestamp()
        # A run begun before the encryption key existed was started in the clear; it
        # continues as new (encrypted) once asked, or once it hears from a client
        # that encrypts.
        self._legacy_run = started < trusted_input.encrypted_since
        self._reencrypt = False
        self._continue_while_idle = False
        self._uses_store = False
        self._refresh = False
        self._running: Turn | None = None
        self._tool_budget = ToolOutputBudget()
        self._the_agent: Agent[Any] | None = None
        self._turn_task: asyncio.Task[RunResult] | None = None
        self._scope: TurnScope | None = None
        self._tool_setups: dict[str, ToolSetup] = {}  # by turn id, as their messages said
        self._tools = TurnTools(self._turn_context)
        self._agent_tools: list[FunctionTool] | None = None
        self._tools_agent: Agent[Any] | None = None
        try:
            args = trusted_input.decode(
                raw, _ARGS, legacy=self._legacy_run, max_bytes=MAX_ARGS_BYTES, what="start input"
            )
        except InputRejected as exc:
            workflow.logger.warning("not starting this conversation: %s", exc)
            self._state: ConversationState | None = None
            self._limits = ConversationArgs(conversation_id="").limits
            return
        self._state = args.state or ConversationState(
            conversation_id=args.conversation_id, created_at=workflow.now().timestamp()
        )
        self._limits = args.limits

    @workflow.run
    async def run(self, raw: RawValue) -> None:
        if self._state is None:
            return  # input that was not ours: nothing to run (see __init__)
        self._continue_while_idle = workflow.patched(CONTINUE_WHILE_IDLE)
        self._uses_store = workflow.patched(CONVERSATION_STORE)
        if self._uses_store:
            await self._store_carried_turns()
        while True:
            await workflow.wait_condition(
                lambda: self._next_queued() is not None or self._must_continue_idle()
            )
            turn = self._next_queued()
            if turn is not None and self._must_move_to_store_first(turn):
                await self._continue_as_new()  # the queued turn goes with the state
            if turn is not None:
                await self._run_turn(turn)
                if self._history_is_large():
                    await self._continue_as_new()
            if self._must_continue_idle():
                await self._continue_as_new()

    def _must_move_to_store_first(self, turn: Turn) -> bool:
        """A run from before the store would answer the old way, leaving the turn out of
        the store that the client reads it from: it hands the turn to a new run.

        The patch names the turn: a patch's first answer holds for the whole run, and
        this run's replay has already answered "no" for the turns it took the old way.
        """
        return not self._uses_store and workflow.patched(f"{STORE_BEFORE_ANSWER}:{turn.turn_id}")

    def _must_continue_idle(self) -> bool:
        """Between turns: a legacy run once asked (the new run's input is encrypted),
        and any run near Temporal's limits (signals alone can grow a history; histories
        from before this check continued as new only after a turn)."""
        if self._running is not None:
            return False
        if self._refresh and not self._uses_store:
            return True  # a run from before the store, asked to move its turns there
        return self._reencrypt or (self._continue_while_idle and self._history_is_large())

    async def _store_carried_turns(self) -> None:
        """Write the finished turns this run was started with (by a run from before the
        store, or an import) to the store, then drop them; the model's context they
        carried becomes this run's."""
        state = self._state
        finished = [t for t in state.turns if t.status in FINISHED]
        if state.items and not state.context:
            answered = [t.turn_id for t in finished if t.status != "failed" or t.reply]
            state.context = trimmed(split_by_turn(state.items, answered), state.context_tokens)
            state.items = []
        if not finished:
            return
        await workflow.execute_local_activity_method(
            TurnActivities.record_turns,
            RecordTurns(
                conversation_id=state.conversation_id,
                title=state.title,
                title_is_custom=state.title_is_custom,
                created_at=state.created_at,
                turns=[_all_fields_set(t) for t in finished],
            ),
            start_to_close_timeout=LOCAL,
            retry_policy=STORE_RETRY,
        )
        for turn in finished:
            self._forget(turn)

    async def _continue_as_new(self) -> None:
        assert self._state is not None
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._state.runs += 1
        workflow.continue_as_new(
            ConversationArgs(
                conversation_id=self._state.conversation_id,
                state=fit_for_carry(_all_fields_set(self._state)),
                limits=self._limits,
            )
        )

    # -- signals and queries -----------------------------------------------------------

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal, as raw payloads: checked here, then handled; never raises."""
        handler = self._SIGNALS.get(name)
        if self._state is None:
            workflow.logger.warning(
                "dropped a signal %r: this run is not a conversation", name[:40]
            )
            return
        if handler is None:
            workflow.logger.warning("dropped a signal %r: no such signal here", name[:40])
            return
        try:
            # Stop's turn id is optional, but only a plain (legacy) client leaves it out:
            # ours sends it, encrypted, even when it is None.
            raw = trusted_input.single(args, name, optional=name == "stop" and self._in_clear())
            handler(self, raw)
        except InputRejected as exc:
            workflow.logger.warning("dropped a %r signal: %s", name, exc)
            return
        if self._legacy_run and raw is not None and trusted_input.was_encrypted(raw):
            self._reencrypt = True

    def _in_clear(self) -> bool:
        """Whether plain input may be taken now: only in a workflow task from before the
        key existed (replaying history written in the clear). The task's time is in the
        history, so a replay decides the same."""
        return workflow.now().timestamp() < trusted_input.encrypted_since

    def _send(self, raw: RawValue) -> None:
        assert self._state is not None
        message = trusted_input.decode(
            raw,
            _MESSAGE,
            legacy=self._in_clear(),
            max_bytes=MAX_MESSAGE_BYTES + MESSAGE_EXTRAS_BYTES,
            what="send",
        )
        if message.message_id in self._state.recent_ids or any(
            t.turn_id == message.message_id for t in self._state.turns
        ):
            return  # a resent message: already applied once
        if message.context_tokens is not None:
            self._state.context_tokens = message.context_tokens
        if message.tools is not None:
            # Kept for its turn only (not carried on: a carried turn asks the worker).
            self._tool_setups[message.message_id] = message.tools
        if sum(t.status == "queued" for t in self._state.turns) >= MAX_QUEUED:
            raise InputRejected(f"send: {MAX_QUEUED} messages are already waiting")
        self._state.turns.append(
            Turn(
                turn_id=message.message_id,
                user_text=message.text,
                queued_at=workflow.now().timestamp(),
            )
        )
        if not self._state.title:
            self._state.title = title_from(message.text)

    def _stop(self, raw: RawValue | None) -> None:
        turn_id = (
            trusted_input.decode(
                raw,
                _TURN_ID,
                legacy=self._in_clear(),
                max_bytes=MAX_SMALL_SIGNAL_BYTES,
                what="stop",
            )
            if raw is not None
            else None
        )
        running = self._running
        if running is None or (turn_id and turn_id != running.turn_id):
            return
        if self._scope is not None and workflow.patched(STOP_BLOCKS_NEW_WORK):
            self._scope.stopping = True
        if self._turn_task and not self._turn_task.done():
            self._turn_task.cancel()

    def _rename(self, raw: RawValue) -> None:
        assert self._state is not None
        title = trusted_input.decode(
            raw, _TITLE, legacy=self._in_clear(), max_bytes=MAX_SMALL_SIGNAL_BYTES, what="rename"
        )
        title = " ".join(title.split())
        if len(title) > MAX_TITLE_CHARS:
            raise InputRejected(f"rename: the title is over {MAX_TITLE_CHARS} characters")
        if title:
            self._state.title = title
            self._state.title_is_custom = True

    def _refresh_signal(self, raw: RawValue) -> None:
        """``refresh``: the supervisor asks a run from before the conversation store to
        continue as new, so its turns move to the store (no-op for a run that uses it)."""
        trusted_input.decode(
            raw, _NOTHING, legacy=self._in_clear(), max_bytes=MAX_SMALL_SIGNAL_BYTES, what="refresh"
        )
        self._refresh = True

    def _reencrypt_signal(self, raw: RawValue) -> None:
        """``reencrypt``: the supervisor asks a legacy run to continue as new (on_signal
        notes that it came encrypted)."""
        trusted_input.decode(
            raw, _NOTHING, legacy=False, max_bytes=MAX_SMALL_SIGNAL_BYTES, what="reencrypt"
        )

    _SIGNALS: ClassVar[dict[str, Callable[[ConversationWorkflow, Any], None]]] = {
        "send": _send,
        "stop": _stop,
        "rename": _rename,
        "reencrypt": _reencrypt_signal,
        "refresh": _refresh_signal,
    }

    @workflow.update(name="decide")
    def decide(self, raw: RawValue) -> None:
        """Allow or deny a tool call that waits (checked by the validator first)."""
        self._tools.decide(self._decision(raw))

    @decide.validator
    def _check_decide(self, raw: RawValue) -> None:
        self._tools.check_decision(self._decision(raw))

    def _decision(self, raw: RawValue) -> ApprovalDecision:
        if self._state is None:
            raise ApplicationError("this run is not a conversation", non_retryable=True)
        try:
            return trusted_input.decode(
                raw, _DECISION, legacy=False, max_bytes=MAX_SMALL_SIGNAL_BYTES, what="decide"
            )
        except InputRejected as exc:
            raise ApplicationError(str(exc), type="InputRejected", non_retryable=True) from None

    @workflow.query
    def approvals(self) -> list[PendingApproval]:
        """The tool calls of the running turn that wait for the user."""
        return self._tools.pending()

    @workflow.query
    def state(self) -> ConversationState | None:
        """Everything a new run needs to carry on this conversation."""
        return _all_fields_set(self._state) if self._state is not None else None

    @workflow.query
    def history(self) -> ConversationView:
        if self._state is None:
            raise ValueError("this run was started with input that was not DuraChat's")
        turns = self._state.turns
        updated = max(
            [t.ended_at or t.started_at or t.queued_at for t in turns] or [self._state.created_at]
        )
        return ConversationView(
            conversation_id=self._state.conversation_id,
            title=self._state.title or "New conversation",
            created_at=self._state.created_at,
            updated_at=updated,
            running_turn_id=self._running.turn_id if self._running else None,
            turns=[_all_fields_set(t) for t in turns],
            runs=self._state.runs,
        )

    # -- a turn ------------------------------------------------------------------------

    def _next_queued(self) -> Turn | None:
        return next((t for t in self._state.turns if t.status == "queued"), None)

    async def _run_turn(self, turn: Turn) -> None:
        conv = self._state.conversation_id
        turn.status = "running"
        turn.started_at = workflow.now().timestamp()
        self._running = turn
        self._tool_budget = ToolOutputBudget()
        announce = None
        if not workflow.patched(TURN_STARTED_BY_MODEL):
            # Histories from before the model call announced the turn itself replay
            # as they ran: a local activity here, which held back the model call.
            announce = workflow.start_local_activity_method(
                TurnActivities.publish_turn_event,
                TurnStarted(conversation_id=conv, turn_id=turn.turn_id, text=turn.user_text, ts=0),
                start_to_close_timeout=LOCAL,
            )
        user_item: dict[str, Any] = {"role": "user", "content": turn.user_text}
        earlier = model_input(self._state.context) if self._uses_store else self._state.items
        self._scope = TurnScope(conversation_id=conv, turn_id=turn.turn_id)
        CURRENT_TURN.set(self._scope)
        with_setup = workflow.patched(f"{TOOLS_AND_APPROVALS}:{turn.turn_id}")
        setup = self._tool_setups.pop(turn.turn_id, None)
        self._turn_task = asyncio.create_task(
            self._answer(self._scope, [*earlier, user_item], with_setup, setup)
        )
        if self._uses_store:
            await self._run_stored_turn(turn, user_item, len(earlier))
            return
        try:
            result = await self._turn_task
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError) or is_cancelled_exception(exc):
                await self._end_stopped(turn, user_item)
            else:
                await self._end_failed(turn, exc, user_item)
        else:
            await self._end_done(turn, result)
        finally:
            self._leave(turn)
            if announce is not None:
                await announce

    async def _run_stored_turn(
        self, turn: Turn, user_item: dict[str, Any], earlier_count: int
    ) -> None:
        """Await the running turn, write how it ended to the store, then drop it."""
        assert self._turn_task is not None
        stopped = False
        event: TurnDone | TurnFailed | None = None
        items: list[dict[str, Any]] = []
        try:
            result = await self._turn_task
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError) or is_cancelled_exception(exc):
                stopped, turn.status = True, "stopped"
                items = [user_item]  # and the part of the reply the user saw
            else:
                turn.status, turn.error = "failed", classify(exc)
                workflow.logger.warning("turn %s failed: %s", turn.turn_id, turn.error.message)
                if partial := partial_reply(exc):
                    # Cut off by a limit: the user keeps what was said, and so does the model.
                    turn.reply = partial
                    items = [user_item, {"role": "assistant", "content": partial}]
                event = self._failed_event(turn)
        else:
            self._take_result(turn, result)
            turn.status = "done"
            # Plain JSON dicts: see ContextTurn.
            everything = json.loads(json.dumps(result.to_input_list(), default=_plain))
            items = everything[earlier_count:]
            event = TurnDone(
                conversation_id=self._state.conversation_id,
                turn_id=turn.turn_id,
                input_tokens=turn.input_tokens,
                output_tokens=turn.output_tokens,
                ts=0,
            )
        finally:
            self._leave(turn)
        context = self._state.context
        if stopped or items:
            # A stopped turn's items are completed with its reply by end_turn, below.
            context = [*context, context_turn(turn.turn_id, items, stored=True)]
        context = trimmed(context, self._state.context_tokens)
        reply = await workflow.execute_local_activity_method(
            TurnActivities.end_turn,
            EndTurn(
                record=TurnRecord(
                    conversation_id=self._state.conversation_id,
                    turn=_all_fields_set(turn),
                    items=items,
                    context_starts_at=context[0].turn_id if context else None,
                ),
                event=event,
                stopped=stopped,
            ),
            start_to_close_timeout=LOCAL,
            retry_policy=STORE_RETRY,
        )
        if stopped:
            turn.reply = reply
            if reply and context and context[-1].turn_id == turn.turn_id:
                said = [*items, {"role": "assistant", "content": reply}]
                context[-1] = context_turn(turn.turn_id, said, stored=True)
                context = trimmed(context, self._state.context_tokens)
        self._state.context = context
        self._forget(turn)

    async def _answer(
        self, scope: TurnScope, items: list[Any], with_setup: bool, setup: ToolSetup | None
    ) -> RunResult:
        """The agent's run for one turn (a task: Stop cancels it, setup included)."""
        RUNNING_AGENT.set(scope)  # in this task's own context only
        agent = await self._agent_for_turn(setup) if with_setup else self._agent()
        return await Runner.run(
            agent,
            items,
            max_turns=MAX_AGENT_TURNS,
            # Without this the agents SDK builds trace spans for every turn and
            # exports them, conversation text included, to OpenAI whenever
            # OPENAI_API_KEY is in the worker's environment: nothing leaves the
            # machine unasked (and the spans cost time in every workflow task).
            run_config=RunConfig(tracing_disabled=True),
        )

    def _turn_context(self) -> TurnContext | None:
        if self._running is None or self._state is None:
            return None
        return TurnContext(self._state.conversation_id, self._running, self._tool_budget)

    def _leave(self, turn: Turn) -> None:
        """The turn is no longer running, however it ended."""
        CURRENT_TURN.set(None)
        self._scope = None
        self._running = None
        self._turn_task = None
        turn.ended_at = workflow.now().timestamp()
        for call in turn.tool_calls:  # a tool cut off by Stop (or its approval)
            if call.status in ("running", "waiting"):
                call.status, call.error = "error", "stopped"

    def _forget(self, turn: Turn) -> None:
        """Drop a turn the store now holds from the state, remembering its id."""
        self._state.turns = [t for t in self._state.turns if t.turn_id != turn.turn_id]
        self._state.recent_ids = [*self._state.recent_ids, turn.turn_id][-RECENT_IDS:]

    def _take_result(self, turn: Turn, result: RunResult) -> None:
        turn.reply = str(result.final_output or "")
        turn.reasoning = "\n\n".join(
            summary.text
            for item in result.new_items
            if isinstance(item, ReasoningItem)
            for summary in (item.raw_item.summary or [])
        )
        usage = result.context_wrapper.usage
        turn.input_tokens, turn.output_tokens = usage.input_tokens, usage.output_tokens

    def _failed_event(self, turn: Turn) -> TurnFailed:
        assert turn.error is not None
        return TurnFailed(
            conversation_id=self._state.conversation_id,
            turn_id=turn.turn_id,
            kind=turn.error.kind,
            message=turn.error.message,
            retryable=turn.error.retryable,
            ts=0,
        )

    # Runs from before the store end a turn as below, keeping it in their state.
    # Each ending publishes its live event before the turn's status changes, so a
    # history that says the turn is over never runs ahead of the stream. (In a
    # ``finally``: the turn ends in the history even if publishing failed.)

    async def _end_done(self, turn: Turn, result: RunResult) -> None:
        self._take_result(turn, result)
        # Plain JSON dicts: see ConversationState.items.
        self._state.items = json.loads(json.dumps(result.to_input_list(), default=_plain))
        await self._publish_then_end(
            turn,
            "done",
            TurnDone(
                conversation_id=self._state.conversation_id,
                turn_id=turn.turn_id,
                input_tokens=turn.input_tokens,
                output_tokens=turn.output_tokens,
                ts=0,
            ),
        )

    async def _end_stopped(self, turn: Turn, user_item: dict[str, Any]) -> None:
        try:
            turn.reply = await workflow.execute_local_activity_method(
                TurnActivities.collect_stopped_turn,
                StoppedTurn(conversation_id=self._state.conversation_id, turn_id=turn.turn_id),
                start_to_close_timeout=LOCAL,
            )
        finally:
            turn.status = "stopped"
        # The model sees what the user saw, so the next turn can refer to it.
        self._state.items.append(user_item)
        if turn.reply:
            self._state.items.append({"role": "assistant", "content": turn.reply})

    async def _end_failed(self, turn: Turn, exc: BaseException, user_item: dict[str, Any]) -> None:
        turn.error = classify(exc)
        if partial := partial_reply(exc):
            # Cut off by a limit: the user keeps what was said, and so does the model.
            turn.reply = partial
            self._state.items += [user_item, {"role": "assistant", "content": partial}]
        workflow.logger.warning("turn %s failed: %s", turn.turn_id, turn.error.message)
        await self._publish_then_end(turn, "failed", self._failed_event(turn))

    async def _publish_then_end(
        self, turn: Turn, status: TurnStatus, event: TurnDone | TurnFailed
    ) -> None:
        try:
            await workflow.execute_local_activity_method(
                TurnActivities.publish_turn_event, event, start_to_close_timeout=LOCAL
            )
        finally:
            turn.status = status

    # -- the agent and its tools ---------------------------------------------------------

    async def _agent_for_turn(self, setup: ToolSetup | None) -> Agent[Any]:
        """The agent with this turn's tools: built-in and MCP, under the user's policies."""
        tools = await self._tools.setup(setup)
        if self._tools_agent is None or tools is not self._agent_tools:
            self._agent_tools = tools
            self._tools_agent = Agent(
                name="DuraChat",
                instructions=INSTRUCTIONS,
                model="durachat",  # a label: the worker's provider picks the real model
                tools=list(tools),
            )
        return self._tools_agent

    def _agent(self) -> Agent[Any]:
        """The agent of turns from before MCP tools and approvals (replayed as they ran)."""
        # Made once per run: the same for every turn, and making one costs a few
        # tenths of a millisecond of the workflow task before each model call.
        if self._the_agent is None:
            self._the_agent = Agent(
                name="DuraChat",
                instructions=INSTRUCTIONS,
                model="durachat",  # a label: the worker's provider picks the real model
                tools=self._tools.builtin_tools(),
            )
        return self._the_agent

    def _history_is_large(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._limits.max_events
            or info.get_current_history_size() >= self._limits.max_bytes
        )


M = TypeVar("M", bound=BaseModel)


def _all_fields_set(model: M) -> M:
    """A copy whose every field counts as set.

    The plugin's converter leaves out fields that were never *assigned*; a list
    filled in place (turns, tool calls) would silently vanish from a query or a
    continue-as-new without this.
    """
    return type(model).model_validate(model.model_dump())


def _plain(value: Any) -> Any:
    """json.dumps fallback for the SDK's item objects (pydantic models, iterators)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_unset=True)
    if hasattr(value, "__iter__"):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in the conversation state")
