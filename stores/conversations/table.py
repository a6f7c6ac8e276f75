"""The `<prefix>conversations` table as every part of the store sees it: its client and name,
the guard items that find a message's key by its id, and the paginated query.

A guard item is `user_id = "msgid#<id>"`, `timestamp = "guard"`, naming the key of the message
item (`item_user_id`, `item_timestamp`); one is written per message id and per alias (Meta's ids).
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from stores.codec import from_item as _from_item
from stores.codec import to_item as _to_item
from stores.conversations.memory import LoggedMessages

GUARD_PREFIX = "msgid#"
GUARD_SORT = "guard"


def guard_key(message_id: str) -> dict[str, str]:
    """The key of the guard item of `message_id` (or of an alias)."""
    return {"user_id": GUARD_PREFIX + message_id, "timestamp": GUARD_SORT}


def is_conditional_failure(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


class ConversationTable:
    """The shared state and primitives of the conversation store's parts."""

    def __init__(
        self, dynamodb: Any, table: str, ttl_days: int = 30, default_account: str | None = None
    ) -> None:
        self._db = dynamodb
        self.table = table
        self.ttl_days = ttl_days
        # The account that owns items logged without `business_account_id`.
        self.default_account = default_account
        self._logged = LoggedMessages()

    def _expiry(self) -> int:
        """The `ttl` of an item written now."""
        return int(time.time()) + self.ttl_days * 86_400

    def key_of(self, message_id: str) -> dict[str, str] | None:
        """The (user_id, timestamp) key of a logged message: from memory when this process
        logged it, else from its guard item."""
        if (known := self._logged.recall(message_id)) is not None:
            return {"user_id": known.user_id, "timestamp": known.timestamp}
        response = self._db.get_item(TableName=self.table, Key=_to_item(guard_key(message_id)))
        if "Item" not in response:
            return None
        guard = _from_item(response["Item"])
        return {"user_id": guard["item_user_id"], "timestamp": guard["item_timestamp"]}

    def _put_guard(self, alias: str, key: dict[str, str], ttl: int) -> None:
        """Let `alias` find the message item at `key` (unconditionally)."""
        guard = guard_key(alias) | {
            "item_user_id": key["user_id"],
            "item_timestamp": key["timestamp"],
            "ttl": ttl,
        }
        self._db.put_item(TableName=self.table, Item=_to_item(guard))

    def _exists(self, key: dict[str, str]) -> bool:
        response = self._db.get_item(
            TableName=self.table,
            Key=_to_item(key),
            ProjectionExpression="user_id",
            ConsistentRead=True,
        )
        return "Item" in response

    def _conditional_put(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Item": _to_item(record),
            "ConditionExpression": "attribute_not_exists(user_id)",
        }

    def _query_all(self, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, **query):
            items.extend(_from_item(item) for item in page["Items"])
        return items
