"""`ConversationStore`: the conversation log's parts in one object, with async twins.

Every method has an `a`-prefixed twin that runs the boto3 call in a worker thread, so an async
caller's event loop never blocks on DynamoDB.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stores.conversations.delivery import DeliveryStatuses
from stores.conversations.erasure import ConversationErasure
from stores.conversations.reads import ConversationReads
from stores.conversations.writes import ConversationWrites
from stores.models import ConversationMessage


class ConversationStore(
    ConversationWrites, DeliveryStatuses, ConversationReads, ConversationErasure
):
    """Typed access to `<prefix>conversations`."""

    async def aappend(self, message: ConversationMessage) -> bool:
        return await asyncio.to_thread(self.append, message)

    async def aupdate_status(self, message_id: str, status: str, **attributes: Any) -> bool:
        return await asyncio.to_thread(self.update_status, message_id, status, **attributes)

    async def amark_sent(self, message_id: str, wamids: list[str]) -> bool:
        return await asyncio.to_thread(self.mark_sent, message_id, wamids)

    async def alink_message_id(self, alias: str, message_id: str) -> bool:
        return await asyncio.to_thread(self.link_message_id, alias, message_id)

    async def aadvance_status(
        self, message_id: str, status: str, rank: int, **attributes: Any
    ) -> bool:
        return await asyncio.to_thread(self.advance_status, message_id, status, rank, **attributes)

    async def adelete_user(self, user_id: str) -> int:
        return await asyncio.to_thread(self.delete_user, user_id)

    async def aget(self, message_id: str) -> ConversationMessage | None:
        return await asyncio.to_thread(self.get, message_id)

    async def alogged(self, message_id: str) -> ConversationMessage | None:
        if (known := self._logged.recall(message_id)) is not None:
            return known
        return await asyncio.to_thread(self.get, message_id)

    async def arecent_history(
        self, user_id: str, limit: int = 20, account: str | None = None
    ) -> list[ConversationMessage]:
        return await asyncio.to_thread(self.recent_history, user_id, limit, account)

    async def auser_messages(self, user_id: str) -> list[ConversationMessage]:
        return await asyncio.to_thread(self.user_messages, user_id)

    async def asession_messages(self, session_id: str) -> list[ConversationMessage]:
        return await asyncio.to_thread(self.session_messages, session_id)
