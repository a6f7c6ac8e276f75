"""Appending a message to the log exactly once, however often it is delivered.

No transaction (they cost twice the write capacity): the guard is claimed first with a
conditional put, then the item is written. A crash between the two leaves a guard without its
item; the next append of the same message finds that and writes the item (repair).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from stores.codec import to_item as _to_item
from stores.conversations.table import ConversationTable, guard_key, is_conditional_failure
from stores.models import ConversationMessage, format_timestamp


def _next_millisecond(timestamp: str) -> str:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return format_timestamp(moment + timedelta(milliseconds=1))


class ConversationWrites(ConversationTable):
    """Idempotent appends on `message_id`, at a free millisecond of the user's timeline."""

    def append(self, message: ConversationMessage) -> bool:
        """Log `message` once. Returns False when its `message_id` was already logged.

        No transaction (they cost twice the write capacity): the guard is claimed first with a
        conditional put, then the item is written. A crash between the two leaves a guard without
        its item; the next append of the same message finds that and writes the item (repair).
        """
        record = message.model_dump()
        confidence = record["metadata"].get("route_confidence")
        if record["confidence_score"] is None and isinstance(confidence, int | float):
            record["confidence_score"] = float(confidence)
        if record["ttl"] is None:
            record["ttl"] = self._expiry()
        guard = guard_key(message.message_id) | {
            "item_user_id": record["user_id"],
            "item_timestamp": record["timestamp"],
            "ttl": record["ttl"],
        }
        try:
            self._db.put_item(**self._conditional_put(guard))
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            existing = self.key_of(message.message_id)
            if existing is None or self._exists(existing):
                return False
            record["timestamp"] = existing["timestamp"]  # repair: the item was never written
        written_at = self._put_unique(record)
        if written_at != guard["item_timestamp"]:
            self._db.update_item(
                TableName=self.table,
                Key=_to_item(guard_key(message.message_id)),
                UpdateExpression="SET item_timestamp = :t",
                ExpressionAttributeValues=_to_item({":t": written_at}),
            )
        self._logged.remember(
            message.model_copy(
                update={
                    "timestamp": written_at,
                    "ttl": record["ttl"],
                    "confidence_score": record["confidence_score"],
                }
            )
        )
        return True

    def _put_unique(self, record: dict[str, Any]) -> str:
        """Write the item at its timestamp, moving to the next millisecond while taken."""
        for _ in range(50):
            try:
                self._db.put_item(**self._conditional_put(record))
                return str(record["timestamp"])
            except ClientError as error:
                if not is_conditional_failure(error):
                    raise
                record["timestamp"] = _next_millisecond(record["timestamp"])
        raise RuntimeError(f"no free timestamp for message {record['message_id']}")
