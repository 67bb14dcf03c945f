"""The demo model: a built-in OpenAI-compatible server that streams scripted replies.

It is the default provider when no key is set, and what tests use instead of a paid API.
:func:`plan_reply` says exactly what a request will get; :func:`running_demo_model` and
:func:`demo_model_in_thread` run the server in-process; ``python -m backend.demo_model``
runs it as its own process.
"""

from backend.demo_model.conversation import tool_names
from backend.demo_model.directives import DirectiveError
from backend.demo_model.faults import FaultSpec
from backend.demo_model.runner import demo_model_in_thread, running_demo_model
from backend.demo_model.script import ReplyPlan, ToolCallPlan, counted_tokens, plan_reply
from backend.demo_model.server import DEMO_MODEL_ID, DemoModelConfig, create_app

__all__ = [
    "DEMO_MODEL_ID",
    "DemoModelConfig",
    "DirectiveError",
    "FaultSpec",
    "ReplyPlan",
    "ToolCallPlan",
    "counted_tokens",
    "create_app",
    "demo_model_in_thread",
    "plan_reply",
    "running_demo_model",
    "tool_names",
]
