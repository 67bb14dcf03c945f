"""What the conversation workflow accepts: encrypted, well-formed, within limits.

Anyone who reaches the Temporal server can signal or start a workflow, and the
plugin's payload converter hands on a plain dict when a model does not validate.
So the workflow takes its input as raw payloads and checks each one here:

- it must have been encrypted with our key (the codec marks a plain payload and
  one that does not decrypt), except when it is history from before the key
  existed, written in the clear;
- it must be JSON (or null) of a bounded size that validates against its model.

Anything else raises ``InputRejected``; the workflow drops it with one log line
and goes on. (Imported by the workflow, passed through the sandbox.)
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from backend.encryption.codec import is_plain, is_unreadable

T = TypeVar("T")

# The creation time of the user's first encryption key (Unix seconds), set by the
# worker before it polls and never changed after. Workflow code decides with it
# whether plain input is history from before the key, so it is an input to
# determinism: every worker that replays a history must set the same value.
encrypted_since: float = 0.0


class InputRejected(ValueError):
    """Input the workflow will not act on; the message says why, for the log."""


def decode(raw: Any, adapter: TypeAdapter[T], *, legacy: bool, max_bytes: int, what: str) -> T:
    """The value of one raw payload, or InputRejected."""
    if not isinstance(raw, RawValue):
        raise InputRejected(f"{what}: not a payload")
    payload: Payload = raw.payload
    if is_unreadable(payload):
        raise InputRejected(f"{what}: does not decrypt with this system's key")
    if is_plain(payload) and not legacy:
        raise InputRejected(f"{what}: not encrypted, so not sent by DuraChat")
    encoding = payload.metadata.get("encoding", b"")
    if encoding == b"binary/null":
        value: Any = None
    elif encoding == b"json/plain":
        if len(payload.data) > max_bytes:
            raise InputRejected(f"{what}: {len(payload.data)} bytes, over {max_bytes}")
        try:
            value = json.loads(payload.data)
        except ValueError as exc:
            raise InputRejected(f"{what}: not JSON ({exc})") from None
        except RecursionError:
            raise InputRejected(f"{what}: JSON nested too deeply") from None
    else:
        raise InputRejected(f"{what}: unexpected encoding {encoding!r}")
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise InputRejected(f"{what}: {where}: {first['msg']}") from None


def single(args: Any, what: str, *, optional: bool = False) -> Any:
    """The one argument a signal must carry (None for none, where it is optional)."""
    if optional and not args:
        return None
    if len(args) != 1:
        raise InputRejected(f"{what}: {len(args)} arguments, expected 1")
    return args[0]


def was_encrypted(raw: Any) -> bool:
    return isinstance(raw, RawValue) and not is_plain(raw.payload)
