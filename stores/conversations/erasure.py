"""Deleting one user's messages and their guard items from the log (right to be forgotten).

The whole-person erasure across tables and S3 is `stores.erasure`; this is the log's own part.
"""

from __future__ import annotations

from typing import Any

from stores.codec import to_item as _to_item
from stores.conversations.table import ConversationTable, guard_key

_BATCH = 25  # DynamoDB's BatchWriteItem limit


class ConversationErasure(ConversationTable):
    """A user's messages erased, and forgotten by this process."""

    def delete_user(self, user_id: str) -> int:
        """Delete every message of `user_id` and their guards (right to be forgotten)."""
        keys: list[dict[str, Any]] = []
        for item in self._query_all(
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            ProjectionExpression="user_id, #t, message_id",
            ExpressionAttributeNames={"#t": "timestamp"},
        ):
            keys.append({"user_id": item["user_id"], "timestamp": item["timestamp"]})
            keys.append(guard_key(item["message_id"]))
        self._logged.forget_user(user_id)
        for start in range(0, len(keys), _BATCH):
            requests = {
                self.table: [
                    {"DeleteRequest": {"Key": _to_item(k)}} for k in keys[start : start + _BATCH]
                ]
            }
            while requests:
                response = self._db.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or {}
        return len(keys) // 2
