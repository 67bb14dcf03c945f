"""What a turn asks outside itself about tools: which MCP servers it may use and the
user's tool policies (at the turn's start), and, for a call that needs the user's
approval, noting the wait and its end in the store and on the live stream.

Local activities, as methods of a class that holds what they use. Every write is
idempotent (keyed by conversation and call ids), so a replay changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from temporalio import activity

from backend.client.store import ConversationStore
from backend.local.settings import Settings, SettingsError
from backend.stream.events import ApprovalRequested, ApprovalSettled
from backend.stream.redis_stream import EventPublisher
from backend.tools.setup import ServerSetup, ToolSetup
from backend.workflows.conversation_types import PendingApproval


class SettledApproval(BaseModel):
    conversation_id: str
    turn_id: str
    call_id: str
    allowed: bool
    reason: str | None = None


class ToolCallActivities:
    def __init__(
        self,
        publisher: EventPublisher,
        store: ConversationStore,
        settings: Callable[[], Settings],
        servers: Callable[[], Awaitable[list[ServerSetup]]],
    ) -> None:
        self._publisher = publisher
        self._store = store
        self._settings = settings
        self._servers = servers

    @activity.defn(name="durachat_tool_setup")
    async def tool_setup(self) -> ToolSetup:
        try:
            policies = self._settings().tool_policies
        except SettingsError as exc:
            # A damaged settings file: the defaults, where every tool that may change
            # anything asks (the window and doctor say the file is damaged).
            activity.logger.warning("tool policies unreadable, using the defaults: %s", exc)
            policies = {}
        return ToolSetup(servers=await self._servers(), policies=policies)

    @activity.defn(name="durachat_request_approval")
    async def request_approval(self, pending: PendingApproval) -> None:
        """Noted in the store (``durachat approvals``, the window's list) before the
        live stream says so."""
        await asyncio.to_thread(self._store.add_approval, pending)
        await self._publish(
            ApprovalRequested(
                conversation_id=pending.conversation_id,
                turn_id=pending.turn_id,
                call_id=pending.call_id,
                name=pending.tool,
                server=pending.server,
                arguments=pending.arguments,
            )
        )

    @activity.defn(name="durachat_settle_approval")
    async def settle_approval(self, settled: SettledApproval) -> None:
        await asyncio.to_thread(
            self._store.remove_approval, settled.conversation_id, settled.call_id
        )
        await self._publish(
            ApprovalSettled(
                conversation_id=settled.conversation_id,
                turn_id=settled.turn_id,
                call_id=settled.call_id,
                allowed=settled.allowed,
                reason=settled.reason,
            )
        )

    async def _publish(self, event: ApprovalRequested | ApprovalSettled) -> None:
        self._publisher.publish(event)
        await self._publisher.flush()
