"""Reading the log: one message by its id (or an alias), a user's recent history (per business
account), and every message of a session or of a user."""

from __future__ import annotations

from typing import Any

from stores.codec import from_item as _from_item
from stores.codec import to_item as _to_item
from stores.conversations.table import ConversationTable
from stores.models import ConversationMessage
from stores.schema import SESSION_INDEX


class ConversationReads(ConversationTable):
    """Queries of the conversation log."""

    def get(self, message_id: str) -> ConversationMessage | None:
        key = self.key_of(message_id)
        if key is None:
            return None
        response = self._db.get_item(TableName=self.table, Key=_to_item(key), ConsistentRead=True)
        return ConversationMessage(**_from_item(response["Item"])) if "Item" in response else None

    def logged(self, message_id: str) -> ConversationMessage | None:
        """The message as it was logged (what it says, who, which session and agent): from memory
        when this process logged it, else read. Its delivery status may have moved on since:
        `get` reads that."""
        return self._logged.recall(message_id) or self.get(message_id)

    def recent_history(
        self, user_id: str, limit: int = 20, account: str | None = None
    ) -> list[ConversationMessage]:
        """The user's last `limit` messages, oldest first; with `account`, only those exchanged
        with that business account (items logged without one belong to the default account)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if account is not None:
            query["ExpressionAttributeValues"][":a"] = {"S": account}
            query["FilterExpression"] = "business_account_id = :a"
            if account == self.default_account:
                query["FilterExpression"] += " OR attribute_not_exists(business_account_id)"
        items: list[ConversationMessage] = []
        for _ in range(10):  # a filter applies after the limit: read a few pages at most
            response = self._db.query(**query)
            items += [ConversationMessage(**_from_item(item)) for item in response["Items"]]
            if len(items) >= limit or "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items[:limit][::-1]

    def session_messages(self, session_id: str) -> list[ConversationMessage]:
        """Every message of a session, in time order, through the `SessionIndex` GSI."""
        return [
            ConversationMessage(**item)
            for item in self._query_all(
                IndexName=SESSION_INDEX,
                KeyConditionExpression="session_id = :s",
                ExpressionAttributeValues={":s": {"S": session_id}},
            )
        ]

    def user_messages(self, user_id: str) -> list[ConversationMessage]:
        """Every message of a user, in time order."""
        return [
            ConversationMessage(**item)
            for item in self._query_all(
                KeyConditionExpression="user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
            )
        ]
