"""User settings (``<data dir>/settings.json``): provider, base URL, model, granted folder.

Never a secret: API keys live in the OS keyring (see ``keys.py``). The worker
reads this file at every model call, so a change applies to the next reply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError

from backend.local.paths import DataDir
from backend.local.private_files import write_private
from backend.tools.policy import Policy
from backend.workflows.conversation_types import (
    DEFAULT_CONTEXT_TOKENS,
    MAX_CONTEXT_TOKENS,
    MIN_CONTEXT_TOKENS,
)

Provider = Literal["demo", "openai", "openai-compatible"]

DEFAULT_MODELS: dict[str, str] = {
    "demo": "durachat-demo",
    "openai": "gpt-4.1-mini",
    "openai-compatible": "llama3.2",
}
OPENAI_BASE_URL = "https://api.openai.com/v1"
# How much of a conversation each message sends the model, for models known here
# (by name prefix): well within their context windows, leaving room for the reply.
# Others get DEFAULT_CONTEXT_TOKENS unless settings say otherwise.
KNOWN_CONTEXT_TOKENS: dict[str, int] = {
    "gpt-4.1": 200_000,
    "gpt-4o": 96_000,
    "gpt-5": 200_000,
    "o3": 150_000,
    "o4": 150_000,
    "llama3": 6_000,
}
ContextTokens = Annotated[int, Field(ge=MIN_CONTEXT_TOKENS, le=MAX_CONTEXT_TOKENS)]


MIN_TEXT_SCALE, MAX_TEXT_SCALE = 70, 200


class SettingsError(RuntimeError):
    """The settings file cannot be used; the message says why and what to do."""


class Settings(BaseModel):
    provider: Provider = "demo"
    base_url: str | None = None  # openai-compatible only (and an OpenAI proxy if set)
    model: str | None = None
    granted_folder: str | None = None  # the file tools may read inside it, nowhere else
    # Which OpenAI API to speak; "auto": Responses for OpenAI and the demo model,
    # Chat Completions for other servers (what Ollama, vLLM, llama.cpp all speak).
    api: Literal["auto", "responses", "chat_completions"] = "auto"
    # Silence from the model longer than this fails the attempt (and is retried).
    request_timeout_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    # A reply still streaming after this long is cut off and kept, not retried: the
    # model call's own time limit (10 minutes) would retry it from the start.
    max_reply_s: float = Field(default=540.0, gt=0, le=540.0, allow_inf_nan=False)
    web_ui: bool = False
    theme: Literal["system", "light", "dark"] = "system"
    # The window's text size, in percent of the platform's (Ctrl+plus / Ctrl+minus).
    text_scale: int = Field(default=100, ge=MIN_TEXT_SCALE, le=MAX_TEXT_SCALE)
    # Per model name: how many tokens of the conversation each message sends it.
    context_tokens: dict[str, ContextTokens] = Field(default_factory=dict)
    # Per tool name (as ``durachat tools`` shows it): allow, ask or deny. Tools not
    # named here get their default (see backend/tools/policy.py).
    tool_policies: dict[str, Policy] = Field(default_factory=dict)

    @property
    def uses_responses_api(self) -> bool:
        if self.api != "auto":
            return self.api == "responses"
        return self.provider != "openai-compatible"

    @property
    def model_name(self) -> str:
        return self.model or DEFAULT_MODELS[self.provider]

    def context_budget(self) -> int:
        """Tokens of earlier turns the model in use is sent with each message."""
        name = self.model_name
        if name in self.context_tokens:
            return self.context_tokens[name]
        known = [(len(p), v) for p, v in KNOWN_CONTEXT_TOKENS.items() if name.startswith(p)]
        return max(known)[1] if known else DEFAULT_CONTEXT_TOKENS

    def describe(self) -> str:
        """How the window and CLI label the model in use."""
        if self.provider == "demo":
            return "demo model (offline, no API key)"
        where = f" at {self.base_url}" if self.provider == "openai-compatible" else ""
        return f"{self.model_name} ({self.provider}{where})"

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            raise _damaged(path, f"it cannot be read: {_reason(exc)}") from None
        try:
            return cls.model_validate(json.loads(raw))
        except ValidationError as exc:
            raise _damaged(path, _first_problem(exc)) from None
        except ValueError as exc:  # json.JSONDecodeError
            raise _damaged(path, f"not valid JSON: {exc}") from None

    def save(self, path: Path) -> None:
        write_private(path, self.model_dump_json(indent=2))


def _damaged(path: Path, problem: str) -> SettingsError:
    return SettingsError(
        f"the settings file {path} is damaged ({problem}); fix it or delete it "
        "to start from the defaults (conversations are not affected)"
    )


def _first_problem(exc: ValidationError) -> str:
    """The first bad value by name, e.g. ``request_timeout_s: Input should be...``."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    if not where:
        return "it must hold a JSON object of settings"
    more = exc.error_count() - 1
    return f"{where}: {error['msg']}" + (f"; and {more} more" if more else "")


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def provider_switch_resets(settings: Settings, provider: str) -> dict[str, object]:
    """The fields a switch to ``provider`` resets: a base URL and model belong to the
    provider they were set for. Carried over, the new provider's key would go to the
    old provider's server (an OpenAI key to a LAN Ollama, say)."""
    if provider == settings.provider:
        return {}
    return {"base_url": None, "model": None}


def save_choices(
    data: DataDir, provider: str | None, base_url: str | None, model: str | None
) -> Settings:
    """Apply ``serve --provider/--base-url/--model`` to the saved settings.

    Call it only while holding the data dir's lock: the running backend's worker reads
    this file at every model call, so a ``serve`` that is about to find the data dir
    busy must not have changed it.
    """
    settings = Settings.load(data.settings_file)
    given = {"provider": provider, "base_url": base_url, "model": model}
    changes = provider_switch_resets(settings, provider) if provider is not None else {}
    changes.update({k: v for k, v in given.items() if v is not None})
    if changes:
        data.ensure()
        settings = Settings.model_validate({**settings.model_dump(), **changes})
        settings.save(data.settings_file)
    return settings


def set_tool_policy(path: Path, name: str, policy: Policy) -> Settings:
    """Save ``policy`` for the tool ``name``; the next turn uses it."""
    settings = Settings.load(path)
    policies = {**settings.tool_policies, name: policy}
    settings = settings.model_copy(update={"tool_policies": policies})
    settings.save(path)
    return settings
