"""``durachat send``: the chat from a terminal.

``send`` uses the backend running on the data dir, or starts one for the call.
The reply streams to stdout as it arrives; tool calls and reasoning go to stderr
(``--json``: one event a line on stdout). Exit 0 when the turn is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TextIO

import redis.exceptions
from temporalio.service import RPCError, RPCStatusCode

from backend.cli.output import stdout_closed
from backend.client.api import DuraChatClient, check_message
from backend.client.errors import (
    BackendNotRunning,
    DuraChatError,
    MessageRejected,
    NoSuchConversation,
)
from backend.encryption.payload_key import PayloadKeyError
from backend.local.paths import DataDir
from backend.stream.events import (
    ApprovalRequested,
    ApprovalSettled,
    AttemptStarted,
    MessageDone,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResult,
)
from backend.supervisor.child import ChildFailed
from backend.supervisor.lock import DataDirBusy
from backend.supervisor.supervisor import BackendFailed, Supervisor, SupervisorOptions
from backend.workflows.conversation_types import ConversationView

EXIT_FAILED_TURN = 1
EXIT_STOPPED = 4


@contextlib.asynccontextmanager
async def backend_client(data: DataDir) -> AsyncIterator[DuraChatClient]:
    """A client of the running backend, or of one started for this command."""
    try:
        client = await DuraChatClient.connect(data)
    except BackendNotRunning:
        client = None
    if client is not None:
        try:
            yield client
        finally:
            await client.close()
        return
    sup = Supervisor(SupervisorOptions(data_dir=data))
    info = await sup.start()
    client = await DuraChatClient.connect_to(info)
    try:
        yield client
    finally:
        await client.close()
        await sup.stop()


class _PlainPrinter:
    """Prints a turn for a person: reply on stdout, the rest on stderr, no duplicates.

    On a retried model call the new attempt's text usually repeats what was shown;
    only what goes beyond it is printed. If it differs, the restart is said on stderr.
    """

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.shown: dict[int, str] = {}  # per model call: text already on stdout
        self.attempt_text: dict[int, str] = {}  # per model call: text of the current attempt

    def event(self, e: StreamEvent) -> None:
        if isinstance(e, AttemptStarted) and e.retry:
            self.attempt_text[e.call] = ""
            print(f"[retrying the model call, attempt {e.attempt}]", file=self.err, flush=True)
        elif isinstance(e, TextDelta):
            self._text(e.call, self.attempt_text.get(e.call, "") + e.text)
        elif isinstance(e, MessageDone):
            self._text(e.call, e.text)
        elif isinstance(e, ReasoningDelta):
            self.err.write(e.text)
            self.err.flush()
        elif isinstance(e, ToolCall):
            print(f"\n[tool {e.name} {e.arguments}]", file=self.err, flush=True)
        elif isinstance(e, ApprovalRequested):
            source = f" from {e.server}" if e.server else ""
            print(
                f"[waiting for your approval: {e.name}{source} {_short(e.arguments)}; "
                f"durachat approve {e.call_id} (or deny {e.call_id})]",
                file=self.err,
                flush=True,
            )
        elif isinstance(e, ApprovalSettled):
            verdict = "allowed" if e.allowed else "denied" + (f": {e.reason}" if e.reason else "")
            print(f"[{verdict}]", file=self.err, flush=True)
        elif isinstance(e, ToolResult):
            result = e.output if e.error is None else f"error: {e.error}"
            print(
                f"[tool {e.name} -> {_short(result)} ({e.duration_ms:.0f} ms)]",
                file=self.err,
                flush=True,
            )

    def _text(self, call: int, attempt_text: str) -> None:
        self.attempt_text[call] = attempt_text
        shown = self.shown.get(call, "")
        if attempt_text.startswith(shown):
            self.out.write(attempt_text[len(shown) :])
        elif not shown.startswith(attempt_text):
            print("\n[the retried reply differs; it starts over]", file=self.err, flush=True)
            self.out.write(attempt_text)
        else:
            return
        self.out.flush()
        self.shown[call] = attempt_text

    def finish(self, view: ConversationView, turn_id: str) -> None:
        turn = next(t for t in view.turns if t.turn_id == turn_id)
        printed = "".join(self.shown.values())
        if turn.reply and not printed.endswith(turn.reply):
            # The live stream missed some of it (Redis down): the history has it all.
            self.out.write(
                turn.reply[len(printed) :] if turn.reply.startswith(printed) else turn.reply
            )
        self.out.write("\n")
        self.out.flush()


def _short(text: str | None, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_sendable(data: DataDir, text: str) -> None:
    """Refuse what cannot be sent before anything is sent (or a backend started for it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Bytes that are not UTF-8 reach us as lone surrogates (surrogateescape); no
        # provider takes them, and storing them would show garbage later.
        code = ord(text[exc.start])
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "a lone surrogate"
        raise MessageRejected(
            f"the message is not valid UTF-8 ({what} at character {exc.start + 1}); "
            "check the terminal's encoding"
        ) from None
    check_message(text)
    if data.disk_is_full():
        raise MessageRejected(data.disk_full_message())


async def send_command(data: DataDir, text: str, conversation_id: str | None, as_json: bool) -> int:
    out, err = sys.stdout, sys.stderr
    check_sendable(data, text)
    async with backend_client(data) as client:
        # A mistyped id must not quietly start a conversation under it.
        sent = await client.send(text, conversation_id, must_exist=True)
        if as_json:
            print(
                json.dumps(
                    {
                        "type": "sent",
                        "conversation_id": sent.conversation_id,
                        "message_id": sent.message_id,
                    }
                ),
                flush=True,
            )
        else:
            print(f"conversation: {sent.conversation_id}", file=err, flush=True)
        printer = _PlainPrinter(out, err)
        final: ConversationView | None = None
        async for item in client.follow_turn(
            sent.conversation_id, sent.message_id, sent.stream_after
        ):
            if isinstance(item, ConversationView):
                final = item
            elif as_json:
                print(item.model_dump_json(), flush=True)
            else:
                printer.event(item)
        assert final is not None
        turn = next(t for t in final.turns if t.turn_id == sent.message_id)
        if as_json:
            print(
                json.dumps(
                    {
                        "type": "result",
                        "status": turn.status,
                        "reply": turn.reply,
                        "conversation_id": sent.conversation_id,
                    }
                ),
                flush=True,
            )
        else:
            printer.finish(final, sent.message_id)
        if turn.status == "failed" and turn.error:
            if not as_json:
                print(f"durachat: the reply failed: {turn.error.message}", file=err)
            return EXIT_FAILED_TURN
        if turn.status == "stopped":
            return EXIT_STOPPED
        return 0


def run_chat_command(coro: Coroutine[Any, Any, int], data: DataDir | None = None) -> int:
    """Run a chat command; every error a user can cause ends in one clear line.

    Before returning, every Temporal client is released (``gc.collect`` once the
    exception and its frames are gone): a core client still alive while the
    interpreter finalizes can abort it (seen as exit -6/-11 under load).
    """
    _quiet_temporal_core()
    code, message = _run(coro, data)
    gc.collect()
    if message:
        print(f"durachat: {message}", file=sys.stderr)
    return code


def _quiet_temporal_core() -> None:
    """Keep the Temporal core's own log lines off the terminal.

    It writes warnings (a payload over 512 KB, every retried RPC) straight to stdout,
    where they would break ``--json`` and bury the one line that matters; what goes
    wrong still comes back as an exception, and is said below.
    """
    from temporalio.runtime import Runtime, TelemetryConfig

    quiet = Runtime(telemetry=TelemetryConfig(logging=None))
    Runtime.set_default(quiet, error_if_already_set=False)


def _run(coro: Coroutine[Any, Any, int], data: DataDir | None) -> tuple[int, str | None]:
    try:
        return asyncio.run(coro), None
    except MessageRejected as exc:
        return 2, f"not sent: {exc}"
    except NoSuchConversation as exc:
        return 1, f"{exc} (durachat list shows them)"
    except (DuraChatError, PayloadKeyError) as exc:
        return 1, str(exc)
    except TimeoutError as exc:  # the worker restarting, Temporal stuck
        return 1, str(exc) or "the backend did not answer in time: try again in a moment"
    except redis.exceptions.RedisError as exc:
        return 1, f"the backend's Redis could not be reached ({exc})"
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return 1, f"no such conversation ({exc.message})"
        if "size exceeds limit" in exc.message:  # Temporal's payload limit, once encoded
            return 2, f"not sent: the message is too large for the backend ({exc.message})"
        if data is not None and data.disk_is_full():  # Temporal could not write it down
            return 1, data.disk_full_message(f"the backend said: {exc.message}")
        return 1, f"the backend refused the request: {exc.message}"
    except DataDirBusy as exc:
        return 3, str(exc)
    except (BackendFailed, ChildFailed) as exc:
        return 1, f"the backend could not start: {exc}"
    except BrokenPipeError:  # the reader left; the reply goes on in the backend
        return stdout_closed(), None
    except OSError as exc:
        return 1, data.explain(exc) if data is not None else (exc.strerror or str(exc))
