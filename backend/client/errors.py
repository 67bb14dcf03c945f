"""The errors the client API raises: one hierarchy, whatever failed beneath it.

Temporal's and Redis's own exceptions are mapped to these at the client API's
boundary, so the window and the CLI catch ``DuraChatError`` (or one of its kinds)
and show its message: one line a user can act on.
"""

from __future__ import annotations


class DuraChatError(Exception):
    """Anything the client API could not do; ``str()`` is the line to show."""


class BackendNotRunning(DuraChatError, RuntimeError):
    """No backend runs on this data dir (reading still works: see the store)."""


class BackendUnreachable(DuraChatError, RuntimeError):
    """The backend does not answer (its Temporal server or its Redis), or refused a
    request; the message says which. Temporal's RPCError and Redis's errors become
    this at the client API's boundary: the window catches this, never theirs."""


class BackendStartFailed(DuraChatError, RuntimeError):
    """The backend this process tried to start did not come up; the message names the
    part and the cause (its logs say more)."""


class EncryptionKeyUnavailable(DuraChatError, RuntimeError):
    """The key that encrypts conversations cannot be had (keyring locked, key damaged);
    the message says why and what to do."""


class MessageRejected(DuraChatError, ValueError):
    """The message cannot be sent as it is; nothing was sent."""


class NoSuchConversation(DuraChatError, LookupError):
    """No conversation has this id (never made, or deleted)."""


class ConversationUnreadable(DuraChatError, RuntimeError):
    """The conversation exists but its history cannot be read now; the message says why."""


class ApprovalNotPending(DuraChatError, LookupError):
    """No tool call of that id waits for approval (decided already, stopped, or never
    asked)."""


class StoreError(DuraChatError, RuntimeError):
    """The conversation store cannot be opened or written (disk full, damaged file,
    made by a newer DuraChat); the message says which."""


__all__ = [
    "ApprovalNotPending",
    "BackendNotRunning",
    "BackendStartFailed",
    "BackendUnreachable",
    "ConversationUnreadable",
    "DuraChatError",
    "EncryptionKeyUnavailable",
    "MessageRejected",
    "NoSuchConversation",
    "StoreError",
]
