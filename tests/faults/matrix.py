"""The fault matrix: real conversations, SIGKILL of a part mid-reply, then the checks.

    python -m tests.faults.matrix --faults 300 --seed 7      # the long mode
    pytest tests/faults/test_fault_matrix.py --faults 300     # the same through pytest

Each fault: send a message (a new or an existing conversation) whose reply the demo
model streams slowly, follow it live, and at a moment drawn from a seeded RNG kill
one part with SIGKILL:

- ``worker``, ``redis``, ``temporal``: one child; the supervisor restarts it;
- ``supervisor``: ``durachat serve`` with all its children; started again as a user would;
- ``window``: the window's process (its backend runs inside it); started again.

Each fault strikes in one of three moments (``phase``): while the reply streams;
while the turn waits for the user's approval of a tool call (``append_line`` of the
test MCP server, under ``ask``; approved once the part is back); or while an MCP
call runs (``slow_append``, which may change things and so is never tried twice;
it finishes once the test lets it, after the restart).

While a whole backend is down, a second message is sent through the outbox (held,
then delivered once it is back). Then, with nobody doing anything, the reply in
flight must finish, and:

- every message the sender saw accepted is in the history exactly once, in order;
- every turn ends as one complete reply equal to what the demo model sent (or as a
  clearly failed or stopped turn);
- the subscriber's transcript, rebuilt from the live events, equals the history;
- the history is the conversation store's, and the workflow agrees with it: it holds
  no turn the store has as finished, and no turn the store lacks;
- a tool call struck by a fault ran at most once (exactly once once approved), and its
  turn went on to a complete reply.

The figures: faults by kind, lost and duplicated messages, and the time from the
restart (the killed part ready again) to the first new token the subscriber sees.

The subscriber here is the client API's ``follow_turn``, the window's own source of
events; the window's widgets after a crash are tested in tests/desktop/test_resume.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from backend.client.api import DuraChatClient
from backend.client.errors import ApprovalNotPending, BackendUnreachable
from backend.client.outbox import Outbox, deliver_held
from backend.client.store import ConversationStore
from backend.demo_model.script import counted_tokens
from backend.local.paths import DataDir
from backend.local.settings import Settings
from backend.stream.events import TERMINAL_TYPES
from backend.stream.turn_text import TurnText
from backend.temporal_logging import forward_core_logs
from backend.workflows.conversation_types import ConversationState, ConversationView
from tests.faults.hosts import Host, HostKind
from tests.support.mcp_setup import stdio_server, write_mcp_json

KINDS = ("worker", "redis", "temporal", "supervisor", "window")
PHASES = ("reply", "approval", "mcp_call")
# Within each kind, faults strike at these moments in turn: half while a reply streams.
_PHASE_CYCLE = ("reply", "approval", "mcp_call", "reply")
TOKENS_PER_SECOND = 60
FINISHED = ("done", "failed", "stopped")


@dataclass
class FaultResult:
    index: int
    kind: str
    conversation_id: str
    turn_id: str
    tokens: int
    killed_at_token: int
    phase: str = "reply"
    restart_to_tokens_s: float | None = None  # None: the reply had finished meanwhile
    status: str = ""
    ended_on_history: bool = False  # the live events ended early; the history closed it
    problems: list[str] = field(default_factory=list)


@dataclass
class Plan:
    kind: str
    new_conversation: bool
    tokens: int
    kill_after_tokens: int
    phase: str = "reply"


def make_plan(faults: int, seed: int, kinds: tuple[str, ...] = KINDS) -> list[Plan]:
    """Balanced kinds in a seeded order, grouped by host so hosts switch once."""
    rng = random.Random(seed)
    chosen = [kinds[i % len(kinds)] for i in range(faults)]
    rng.shuffle(chosen)
    plans = []
    for kind in chosen:
        tokens = rng.randint(40, 100)
        room = 10  # tokens still to come at the kill, at least
        kill_after = rng.randint(2, max(2, tokens - room))
        plans.append(Plan(kind, rng.random() < 0.4, tokens, kill_after))
    seen: Counter[str] = Counter()
    for plan in plans:
        plan.phase = _PHASE_CYCLE[seen[plan.kind] % len(_PHASE_CYCLE)]
        seen[plan.kind] += 1
    plans.sort(key=lambda p: p.kind == "window")  # stable: serve faults first
    return plans


def host_kind(kind: str) -> HostKind:
    return "window" if kind == "window" else "serve"


class Follower:
    """One subscriber of one turn, through the same client call the window uses."""

    def __init__(self, turn_id: str) -> None:
        self.turn_id = turn_id
        self.text = TurnText()
        self.deltas = 0
        self.delta_times: list[tuple[float, float]] = []  # (published, received), wall clock
        self.final: ConversationView | None = None
        self.ended = asyncio.Event()
        self.saw_terminal_event = False

    async def run(self, client: DuraChatClient, conversation_id: str, after: str) -> None:
        async for item in client.follow_turn(conversation_id, self.turn_id, after, 0.5):
            if isinstance(item, ConversationView):
                self.final = item
                break
            self.text.apply(item)
            if item.type == "text_delta":
                self.deltas += 1
                self.delta_times.append((item.ts, time.time()))
            if item.type in TERMINAL_TYPES:
                self.saw_terminal_event = True
        self.ended.set()

    def restart(self) -> None:
        """Re-attached from the stream's start, as the window does after a restart."""
        self.text = TurnText()
        self.saw_terminal_event = False
        self.ended.clear()

    def first_token_after(self, wall: float) -> float | None:
        """Seconds from ``wall`` until a token published after it reached the subscriber."""
        received = [r for published, r in self.delta_times if published >= wall]
        return min(received) - wall if received else None


def _turn(view: ConversationView, turn_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in view.turns if t.turn_id == turn_id)


class Matrix:
    def __init__(self, root: Path, seed: int) -> None:
        self.data = DataDir(root / "data").ensure()
        self.seed = seed
        self.rng = random.Random(seed + 1)
        self.host: Host | None = None
        self.client: DuraChatClient | None = None
        self.store = ConversationStore.in_data_dir(self.data.root)
        self.outbox = Outbox(self.store)
        self.accepted: dict[str, list[str]] = defaultdict(list)  # conversation -> message ids
        # message id -> tokens the demo model sends (None: a reply quoting a tool's output)
        self.expected: dict[str, int | None] = {}
        self.marks = root / "marks"
        self.marks.mkdir()
        write_mcp_json(self.data.root, {"files": stdio_server(self.marks, timeout=60)})
        # slow_append runs without asking, so a fault can strike while it runs.
        Settings(tool_policies={"slow_append": "allow"}).save(self.data.settings_file)
        self.results: list[FaultResult] = []
        self._refollowing: asyncio.Task[None] | None = None

    # -- hosts ---------------------------------------------------------------------------

    async def ensure_host(self, kind: HostKind) -> None:
        if self.host is not None and self.host.kind == kind:
            return
        await self.close_client()
        if self.host is not None:
            await asyncio.to_thread(self.host.stop)
        self.host = Host(kind, self.data.root)
        await asyncio.to_thread(self.host.start)
        await self.connect()

    async def connect(self) -> None:
        await self.close_client()
        self.client = await DuraChatClient.connect(self.data)

    async def close_client(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None

    async def close(self) -> None:
        await self.close_client()
        if self.host is not None:
            await asyncio.to_thread(self.host.stop)

    # -- one fault -----------------------------------------------------------------------

    async def run_fault(self, index: int, plan: Plan) -> FaultResult:
        await self.ensure_host(host_kind(plan.kind))
        assert self.client is not None and self.host is not None
        conversations = list(self.accepted)
        conversation_id = (
            None if plan.new_conversation or not conversations else self.rng.choice(conversations)
        )
        text = f"fault {index} [demo tokens={plan.tokens} tps={TOKENS_PER_SECOND}]"
        marker = f"fault-{index}"
        if plan.phase == "approval":
            text = f'fault {index} [demo tool=append_line:{{"text": "{marker}"}}]'
        elif plan.phase == "mcp_call":
            for name in ("slow_append.started", "release"):
                (self.marks / name).unlink(missing_ok=True)
            text = f'fault {index} [demo tool=slow_append:{{"text": "{marker}"}}]'
        sent = await self.client.send(text, conversation_id)
        self.accepted[sent.conversation_id].append(sent.message_id)
        self.expected[sent.message_id] = plan.tokens if plan.phase == "reply" else None
        result = FaultResult(
            index,
            plan.kind,
            sent.conversation_id,
            sent.message_id,
            plan.tokens,
            plan.kill_after_tokens,
            phase=plan.phase,
        )
        follower = Follower(sent.message_id)
        following = asyncio.create_task(
            follower.run(self.client, sent.conversation_id, sent.stream_after)
        )

        deadline = time.monotonic() + 30
        while not self._time_to_strike(plan, sent.conversation_id, follower):
            if time.monotonic() > deadline or follower.ended.is_set():
                result.problems.append(f"the fault's moment ({plan.phase}) never came")
                break
            await asyncio.sleep(0.005)

        ready_at = await self.kill_and_restart(plan.kind, sent.conversation_id, follower, following)
        if plan.phase == "approval":
            await self._approve(sent.conversation_id, result)
        elif plan.phase == "mcp_call":
            (self.marks / "release").touch()  # the call, if it still runs, may finish
        try:
            await asyncio.wait_for(follower.ended.wait(), 90)
        except TimeoutError:
            result.problems.append("the reply in flight did not finish within 90 s")
        for task in (following, self._refollowing):
            if task is not None and not task.done():
                task.cancel()
        self._refollowing = None
        result.restart_to_tokens_s = follower.first_token_after(ready_at)
        await self.check_turn(result, follower)
        self.results.append(result)
        return result

    def _time_to_strike(self, plan: Plan, conversation_id: str, follower: Follower) -> bool:
        if plan.phase == "approval":
            return bool(self.store.pending_approvals(conversation_id))
        if plan.phase == "mcp_call":
            return (self.marks / "slow_append.started").exists()
        return follower.deltas >= plan.kill_after_tokens

    async def _approve(self, conversation_id: str, result: FaultResult) -> None:
        """Allow the waiting call, as the user would once DuraChat is back."""
        assert self.client is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = self.store.pending_approvals(conversation_id)
            if pending:
                try:
                    await self.client.decide(pending[0].call_id, allow=True)
                    return
                except BackendUnreachable:
                    pass  # the part killed is still coming back
                except ApprovalNotPending as exc:
                    result.problems.append(f"the approval was refused: {exc}")
                    return
            await asyncio.sleep(0.2)
        result.problems.append("the call waiting for approval was gone after the restart")

    async def kill_and_restart(
        self,
        kind: str,
        conversation_id: str,
        follower: Follower,
        following: asyncio.Task[None],
    ) -> float:
        """SIGKILL the part; bring it back as the supervisor or a user would.

        Returns when the part was ready again (wall clock, comparable to event times).
        """
        assert self.host is not None
        if kind in ("worker", "redis", "temporal"):
            old = self.host.child_pid(kind)
            os.kill(old, signal.SIGKILL)
            return await asyncio.to_thread(self.host.wait_child_ready, kind, old)

        # The whole backend goes: the follower's connections go with it.
        children = await asyncio.to_thread(self.host.kill)
        following.cancel()
        with contextlib.suppress(BaseException):
            await following
        await asyncio.to_thread(self.host.wait_children_gone, children)
        # A message sent while the backend is down is held, then delivered once.
        held_text = f"held during {kind} fault [demo tokens=5 tps=0]"
        held = self.outbox.hold(conversation_id, f"msg-held-{time.time_ns()}", held_text)
        assert self.client is not None
        while_down = await deliver_held(self.outbox, self.client, attempt_timeout=1)
        assert while_down.stalled and not while_down.sent, "delivered to a dead backend?"
        await self.close_client()
        ready_at = await asyncio.to_thread(self.host.start)
        await self.connect()
        assert self.client is not None
        # As the window does: try again until the restarted backend takes it. (A
        # restarted window delivers the store's held messages itself, and may be first.)
        deadline = time.monotonic() + 60
        while held.message_id in self.outbox:
            delivery = await deliver_held(self.outbox, self.client)
            assert not delivery.refused, delivery
            if held.message_id in self.outbox:
                assert time.monotonic() < deadline, f"the held message never went: {delivery}"
                await asyncio.sleep(0.5)
        self.accepted[conversation_id].append(held.message_id)
        self.expected[held.message_id] = 5
        # The subscriber comes back with the backend and picks up after what it had.
        follower.restart()
        self._refollowing = asyncio.create_task(follower.run(self.client, conversation_id, "0-0"))
        return ready_at

    async def check_turn(self, result: FaultResult, follower: Follower) -> None:
        assert self.client is not None
        view = follower.final or await self.client.history(result.conversation_id)
        # Wait for queued turns (a held message) so the next fault starts clean.
        for _ in range(600):
            if view.running_turn_id is None and all(t.status in FINISHED for t in view.turns):
                break
            await asyncio.sleep(0.1)
            view = await self.client.history(result.conversation_id)
        turn = _turn(view, result.turn_id)
        result.status = turn.status
        result.problems += await self._workflow_agrees(result.conversation_id, view)
        if result.phase != "reply":
            result.problems += self._tool_ran_once(result, turn)
        elif turn.status == "done":
            expected = "".join(counted_tokens(result.tokens))
            if turn.reply != expected:
                result.problems.append(f"reply differs: {turn.reply[:80]!r}…")
        elif turn.status != "failed" or turn.error is None:
            result.problems.append(f"turn ended {turn.status} without an error")
        # The subscriber's transcript rebuilt from the live events is the history, and
        # so is the stream replayed from Redis. The one allowed exception: a SIGKILLed
        # Redis (alone or with the whole backend) may come back without its last
        # second of writes (appendfsync everysec), so a turn's final events can be gone
        # before the subscriber read them; it then ends on the history view, as the
        # window does, and that is counted. Any other part's death must lose nothing.
        redis_may_lose_writes = result.kind in ("redis", "supervisor")
        if follower.saw_terminal_event:
            if follower.text.text != turn.reply:
                result.problems.append("the subscriber's transcript differs from the history")
        elif redis_may_lose_writes:
            result.ended_on_history = True
        else:
            result.problems.append("the live stream never ended the turn")
        rebuilt = TurnText()
        for _id, event in await self.client.reader.read_range(result.conversation_id):
            if event.turn_id == result.turn_id:
                rebuilt.apply(event)
        if not redis_may_lose_writes and rebuilt.text != turn.reply:
            result.problems.append("the stream, replayed, differs from the history")

    def _tool_ran_once(self, result: FaultResult, turn) -> list[str]:  # type: ignore[no-untyped-def]
        """The struck call ran at most once; once approved, exactly once."""
        path = self.marks / "appended.txt"
        runs = path.read_text().splitlines().count(f"fault-{result.index}") if path.exists() else 0
        calls = turn.tool_calls
        if len(calls) != 1:
            return [f"{len(calls)} tool calls in the turn"]
        (call,) = calls
        if runs > 1:
            return [f"the tool ran {runs} times"]
        if result.phase == "approval" and (runs != 1 or call.status != "done"):
            return [f"approved, the tool ran {runs} times and ended {call.status}"]
        if call.status == "done" and runs != 1:
            return ["the call says done, but the tool never ran"]
        if call.status == "error" and runs:
            return ["the call says it failed, but the tool ran"]
        return []

    async def _workflow_agrees(self, conversation_id: str, view: ConversationView) -> list[str]:
        """The workflow holds no turn the store has as finished (each is written once,
        then dropped), and every turn it still holds is in the store."""
        assert self.client is not None
        handle = self.client.temporal.get_workflow_handle(conversation_id)
        stored = {t.turn_id: t.status for t in view.turns}
        problems: list[str] = []
        # The workflow drops a turn in the workflow task after the write: a query may
        # fall between the two, so it is asked again for a moment.
        for _ in range(50):
            state = await handle.query("state", result_type=ConversationState)
            if state is None:
                return ["the workflow has no state"]
            problems = []
            for turn in state.turns:
                if stored.get(turn.turn_id) in FINISHED:
                    problems.append(f"{turn.turn_id} is finished in the store and in the workflow")
                if turn.turn_id not in stored:
                    problems.append(f"{turn.turn_id} is in the workflow, not in the store")
            if not problems:
                break
            await asyncio.sleep(0.1)
        return problems

    # -- the whole run -------------------------------------------------------------------

    async def check_all_conversations(self) -> list[str]:
        """Every accepted message exactly once, in order; every reply complete."""
        assert self.client is not None
        problems = []
        for conversation_id, message_ids in self.accepted.items():
            view = await self.client.history(conversation_id)
            turn_ids = [t.turn_id for t in view.turns]
            for message_id in message_ids:
                count = turn_ids.count(message_id)
                if count != 1:
                    problems.append(f"{message_id} is in the history {count} times")
            if [t for t in turn_ids if t in message_ids] != message_ids:
                problems.append(f"{conversation_id}: messages out of order")
            for turn in view.turns:
                tokens = self.expected[turn.turn_id]
                if (
                    tokens is not None
                    and turn.status == "done"
                    and turn.reply != "".join(counted_tokens(tokens))
                ):
                    problems.append(f"{turn.turn_id}: reply differs from what the model sent")
        return problems


@dataclass
class Report:
    seed: int
    results: list[FaultResult]
    final_problems: list[str]

    @property
    def lost_or_duplicated(self) -> int:
        return sum(bool(r.problems) for r in self.results) + len(self.final_problems)

    def by_kind(self) -> dict[str, dict[str, object]]:
        table: dict[str, dict[str, object]] = {}
        for kind in KINDS:
            rows = [r for r in self.results if r.kind == kind]
            if not rows:
                continue
            times = [r.restart_to_tokens_s for r in rows if r.restart_to_tokens_s is not None]
            table[kind] = {
                "faults": len(rows),
                "with_problems": sum(bool(r.problems) for r in rows),
                "outcomes": dict(Counter(r.status for r in rows)),
                "ended_on_history": sum(r.ended_on_history for r in rows),
                "restart_to_tokens_s": {
                    "median": round(statistics.median(times), 3) if times else None,
                    "worst": round(max(times), 3) if times else None,
                    "measured": len(times),
                },
            }
        return table

    def by_phase(self) -> dict[str, dict[str, object]]:
        return {
            phase: {
                "faults": len(rows),
                "with_problems": sum(bool(r.problems) for r in rows),
                "outcomes": dict(Counter(r.status for r in rows)),
            }
            for phase in PHASES
            if (rows := [r for r in self.results if r.phase == phase])
        }

    def render(self) -> str:
        lines = [f"fault matrix, seed {self.seed}: {len(self.results)} faults"]
        for phase, row in self.by_phase().items():
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))  # type: ignore[union-attr]
            lines.append(
                f"struck while {phase}: {row['faults']} faults, "
                f"{row['with_problems']} with problems ({outcomes})"
            )
        lines.append(
            f"{'kind':<11}{'faults':>7}{'problems':>10}{'ended on history':>18}"
            "  outcomes            restart→tokens"
        )
        for kind, row in self.by_kind().items():
            t = row["restart_to_tokens_s"]
            assert isinstance(t, dict)
            timing = (
                f"median {t['median']:.2f} s, worst {t['worst']:.2f} s (n={t['measured']})"
                if t["measured"]
                else "—"
            )
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))  # type: ignore[union-attr]
            lines.append(
                f"{kind:<11}{row['faults']:>7}{row['with_problems']:>10}"
                f"{row['ended_on_history']:>18}  {outcomes:<20}{timing}"
            )
        for r in self.results:
            for p in r.problems:
                lines.append(f"fault {r.index} ({r.kind}, {r.phase}): {p}")
        lines += self.final_problems
        return "\n".join(lines)


async def run_matrix(faults: int, seed: int, root: Path, progress: bool = False) -> Report:
    matrix = Matrix(root, seed)
    try:
        for index, plan in enumerate(make_plan(faults, seed)):
            result = await matrix.run_fault(index, plan)
            if progress:
                timing = result.restart_to_tokens_s
                print(
                    f"fault {index + 1}/{faults} {result.kind} ({result.phase}): {result.status}"
                    + (f", tokens {timing:.2f} s after the restart" if timing is not None else "")
                    + "".join(f"; PROBLEM {p}" for p in result.problems),
                    file=sys.stderr,
                    flush=True,
                )
        final = await matrix.check_all_conversations()
    finally:
        await matrix.close()
    return Report(seed, matrix.results, final)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Temporal retries every call while a killed server is down and warns each time:
    # expected here, so only its errors are shown, and never in the report on stdout.
    forward_core_logs()
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="durachat-faults-") as tmp:
        report = asyncio.run(run_matrix(args.faults, args.seed, Path(tmp), progress=True))
    gc.collect()  # release Temporal core clients before the interpreter finalizes
    if args.json:
        print(
            json.dumps(
                {"seed": report.seed, "by_kind": report.by_kind(), "by_phase": report.by_phase()}
            ),
            flush=True,
        )
    else:
        print(report.render(), flush=True)
    return 1 if report.lost_or_duplicated else 0


if __name__ == "__main__":
    raise SystemExit(main())
