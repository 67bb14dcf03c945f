"""Turning the exception that ended a turn into the one line a user reads."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, FailureError

from backend.workflows.conversation_types import TurnError

_KINDS = {
    "AuthenticationError": ("auth", "the provider rejected the API key"),
    "PermissionDeniedError": ("auth", "the provider refused access with this key"),
    "RateLimitError": ("rate_limited", "the provider's rate limit was hit"),
    "InternalServerError": ("provider_error", "the provider had a server error"),
    "NotFoundError": ("configuration", "the provider does not know this model or URL"),
    "BadRequestError": ("bad_request", "the provider refused the request"),
    "ConfigurationError": ("configuration", ""),
    "Unreachable": ("unreachable", ""),
    "APIConnectionError": ("unreachable", "the model's server could not be reached"),
    "APITimeoutError": ("timeout", "the model did not answer in time"),
}


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
            detail = link.message
            message = f"{lead}: {detail}" if lead and detail else (lead or detail)
            return TurnError(kind=kind, message=message, retryable=not final)
    for link in reversed(chain):
        if isinstance(link, FailureError) and "timed out" in str(link).lower():
            return TurnError(
                kind="timeout", message="the model did not answer in time", retryable=True
            )
    innermost = chain[-1]
    return TurnError(
        kind="error", message=str(innermost) or type(innermost).__name__, retryable=not final
    )
