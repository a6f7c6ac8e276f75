"""WhatsApp users (`<prefix>users`): opt-in state, stored on the user."""

from __future__ import annotations

import asyncio
from typing import Any

from stores.codec import from_item, to_item
from stores.models import UserProfile, utc_now_iso, whatsapp_user_id


class UserStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self.table = table

    def get(self, wa_id: str) -> UserProfile | None:
        response = self._db.get_item(
            TableName=self.table,
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            ConsistentRead=True,
        )
        return UserProfile(**from_item(response["Item"])) if "Item" in response else None

    def set_opted_in(self, wa_id: str, opted_in: bool) -> UserProfile:
        """Record the user's choice; creates the user on first contact."""
        now = utc_now_iso()
        response = self._db.update_item(
            TableName=self.table,
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            UpdateExpression=(
                "SET opted_in = :o, updated_at = :n, whatsapp_number = :w, "
                "first_interaction_date = if_not_exists(first_interaction_date, :n)"
            ),
            ExpressionAttributeValues=to_item(
                {":o": opted_in, ":n": now, ":w": "+" + wa_id.lstrip("+")}
            ),
            ReturnValues="ALL_NEW",
        )
        return UserProfile(**from_item(response["Attributes"]))

    def is_opted_in(self, wa_id: str) -> bool:
        user = self.get(wa_id)
        return user is None or user.opted_in

    async def aget(self, wa_id: str) -> UserProfile | None:
        return await asyncio.to_thread(self.get, wa_id)

    async def aset_opted_in(self, wa_id: str, opted_in: bool) -> UserProfile:
        return await asyncio.to_thread(self.set_opted_in, wa_id, opted_in)

    async def ais_opted_in(self, wa_id: str) -> bool:
        return await asyncio.to_thread(self.is_opted_in, wa_id)
