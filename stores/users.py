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

    def set_opted_in(self, wa_id: str, opted_in: bool, account: str | None = None) -> UserProfile:
        """Record the user's choice (for one business account, or every one when `account` is
        None); creates the user on first contact."""
        now = utc_now_iso()
        values: dict[str, Any] = {":n": now, ":w": "+" + wa_id.lstrip("+")}
        update = (
            "SET updated_at = :n, whatsapp_number = :w, "
            "first_interaction_date = if_not_exists(first_interaction_date, :n)"
        )
        names: dict[str, str] = {}
        if account is None:
            update += ", opted_in = :o"
            values[":o"] = opted_in
        else:
            update += " DELETE #out :a" if opted_in else " ADD #out :a"
            names["#out"] = "opted_out_accounts"
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item({"user_id": whatsapp_user_id(wa_id)}),
            "UpdateExpression": update,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValues": "ALL_NEW",
        }
        if account is not None:
            request["ExpressionAttributeValues"][":a"] = {"SS": [account]}
            request["ExpressionAttributeNames"] = names
        response = self._db.update_item(**request)
        return UserProfile(**from_item(response["Attributes"]))

    def is_opted_in(self, wa_id: str, account: str | None = None) -> bool:
        user = self.get(wa_id)
        if user is None:
            return True
        return user.opted_in and (account is None or account not in user.opted_out_accounts)

    async def aget(self, wa_id: str) -> UserProfile | None:
        return await asyncio.to_thread(self.get, wa_id)

    async def aset_opted_in(
        self, wa_id: str, opted_in: bool, account: str | None = None
    ) -> UserProfile:
        return await asyncio.to_thread(self.set_opted_in, wa_id, opted_in, account)

    async def ais_opted_in(self, wa_id: str, account: str | None = None) -> bool:
        return await asyncio.to_thread(self.is_opted_in, wa_id, account)
