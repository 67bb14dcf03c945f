"""Turning the exception that ended a turn into the one line a user reads."""

from __future__ import annotations

import re

from temporalio.exceptions import ApplicationError, FailureError

from backend.workflows.conversation_types import TurnError

_KINDS = {
    "AuthenticationError": ("auth", "the provider rejected the API key"),
    "PermissionDeniedError": ("auth", "the provider refused access with this key"),
    "RateLimitError": ("rate_limited", "the provider's rate limit was hit"),
    "InternalServerError": ("provider_error", "the provider had a server error"),
    "NotFoundError": ("configuration", "the provider does not know this model or URL"),
    "BadRequestError": ("bad_request", "the provider refused the request"),
    "UnprocessableEntityError": ("bad_request", "the provider refused the request"),
    "ConfigurationError": ("configuration", ""),
    "Unreachable": ("unreachable", ""),
    "APIConnectionError": ("unreachable", "the model's server could not be reached"),
    "APITimeoutError": ("timeout", "the model did not answer in time"),
    # Raised by backend.models.streaming_model, with the whole message.
    "ModelTimeout": ("timeout", ""),
    "MalformedReply": ("provider_error", ""),
    "EmptyReply": ("provider_error", ""),
    "IncompleteStream": ("provider_error", ""),
    "ReplyTooLong": ("reply_limit", ""),
    "ReplyTooSlow": ("reply_limit", ""),
    "ConversationTooLarge": ("too_large", ""),
    "ContextMissing": ("store", ""),
}
# Ours, raised with the reply so far as their first detail.
_KEEPS_PARTIAL = frozenset({"ReplyTooLong", "ReplyTooSlow"})
# Ours stop the activity's retries early, yet sending again later may well work.
_WORTH_RETRYING_LATER = frozenset({"ModelTimeout", "EmptyReply"})
# What the user can do, where the provider's own words do not say it.
_ADVICE = {
    "rate_limited": "wait a minute before sending again, or check your plan's usage limits",
}
# The openai client's message for an HTTP error: "Error code: 429 - <provider's words>".
_STATUS_RE = re.compile(r"^Error code: (?P<status>\d{3})(?: - (?P<said>.*))?$", re.DOTALL)


def classify(exc: BaseException) -> TurnError:
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and len(chain) < 10:
        chain.append(node)
        node = node.cause if isinstance(node, FailureError) else node.__cause__
    # Any link that says "do not retry" decides: the plugin wraps a 401 in one.
    final = any(isinstance(link, ApplicationError) and link.non_retryable for link in chain)
    for link in chain:  # the outermost known kind: ours wrap the SDK's with more context
        if isinstance(link, ApplicationError) and link.type in _KINDS:
            kind, lead = _KINDS[link.type]
            retryable = not final or link.type in _WORTH_RETRYING_LATER
            detail = _readable(link.message)
            if kind == "auth":
                # A provider's 401 text may quote the key (OpenAI masks most of it; a
                # proxy may not): this message goes to the history, Redis and logs.
                detail = _status_only(link.message)
            return _error(kind, lead, detail, retryable=retryable)
    for link in reversed(chain):
        if isinstance(link, FailureError) and "timed out" in str(link).lower():
            return TurnError(
                kind="timeout", message="the model did not answer in time", retryable=True
            )
    innermost = chain[-1]
    said = innermost.message if isinstance(innermost, FailureError) else str(innermost)
    status = _STATUS_RE.match(said.strip())
    if status:  # an HTTP status the table does not name
        kind = "provider_error" if int(status["status"]) >= 500 else "bad_request"
        lead = "the provider answered with an error"
        return _error(kind, lead, _readable(said), retryable=not final)
    # Unknown: the type name is part of the story ("KeyError: 'x'").
    message = str(innermost) or type(innermost).__name__
    return TurnError(kind="error", message=message, retryable=not final)


def _error(kind: str, lead: str, detail: str, retryable: bool) -> TurnError:
    message = f"{lead}: {detail}" if lead and detail else (lead or detail)
    if advice := _ADVICE.get(kind):
        message = f"{message.rstrip('.')}; {advice}"
    return TurnError(kind=kind, message=message, retryable=retryable)


def _status_only(detail: str) -> str:
    match = _STATUS_RE.search(detail.strip())
    return f"HTTP {match['status']}" if match else ""


def _readable(detail: str) -> str:
    """``Error code: 500 - The server had an error`` as ``The server had an error (HTTP 500)``."""
    match = _STATUS_RE.match(detail.strip())
    if match is None:
        return detail
    said = (match["said"] or "").strip()
    status = f"HTTP {match['status']}"
    return f"{said.rstrip('.')} ({status})" if said else status


def partial_reply(exc: BaseException) -> str:
    """What a reply ended by one of our limits had said (its error's first detail)."""
    node: BaseException | None = exc
    for _ in range(10):
        if node is None:
            break
        if (
            isinstance(node, ApplicationError)
            and node.type in _KEEPS_PARTIAL
            and node.details
            and isinstance(node.details[0], str)
        ):
            return node.details[0]
        node = node.cause if isinstance(node, FailureError) else node.__cause__
    return ""
