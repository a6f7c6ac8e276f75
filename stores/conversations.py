"""The conversation log in DynamoDB: one item per inbound and per outbound message.

Appends are idempotent on `message_id`: a guard item (`user_id = "msgid#<message_id>"`) is claimed
with a conditional put before the message is written, so a webhook delivered twice is logged
once. The guard also records the message's key, which finds a message by its id (for
delivery statuses) without a scan. Sort keys are ISO-8601 UTC with milliseconds; two messages of one
user in the same millisecond get consecutive milliseconds.

Every method has an `a`-prefixed twin that runs the boto3 call in a worker thread, so an async
caller's event loop never blocks on DynamoDB.

The store remembers the last few thousand messages it logged itself (their key and what was
written), so a turn does not read back what it has just written: `mark_sent` after the send finds
the reply's key in memory, and the profile update reads the logged reply from memory (`logged`).
A message's key never changes once logged; only erasure removes it (and forgets it here).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from stores.codec import from_item as _from_item
from stores.codec import to_item as _to_item
from stores.models import ConversationMessage, format_timestamp
from stores.schema import SESSION_INDEX

_GUARD_PREFIX = "msgid#"
_GUARD_SORT = "guard"
_REMEMBERED = 4096  # messages logged by this process whose key is kept in memory


def _next_millisecond(timestamp: str) -> str:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return format_timestamp(moment + timedelta(milliseconds=1))


class ConversationStore:
    """Typed access to `<prefix>conversations`."""

    def __init__(
        self, dynamodb: Any, table: str, ttl_days: int = 30, default_account: str | None = None
    ) -> None:
        self._db = dynamodb
        self.table = table
        self.ttl_days = ttl_days
        # The account that owns items logged without `business_account_id`.
        self.default_account = default_account
        self._logged: OrderedDict[str, ConversationMessage] = OrderedDict()
        self._logged_lock = threading.Lock()

    def _remember(self, message: ConversationMessage) -> None:
        with self._logged_lock:
            self._logged[message.message_id] = message
            self._logged.move_to_end(message.message_id)
            while len(self._logged) > _REMEMBERED:
                self._logged.popitem(last=False)

    def _recalled(self, message_id: str) -> ConversationMessage | None:
        with self._logged_lock:
            return self._logged.get(message_id)

    def _forget_user(self, user_id: str) -> None:
        with self._logged_lock:
            for message_id in [k for k, m in self._logged.items() if m.user_id == user_id]:
                del self._logged[message_id]

    # Writes ---------------------------------------------------------------------------------

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
            record["ttl"] = int(time.time()) + self.ttl_days * 86_400
        guard_key = {"user_id": _GUARD_PREFIX + message.message_id, "timestamp": _GUARD_SORT}
        guard = guard_key | {
            "item_user_id": record["user_id"],
            "item_timestamp": record["timestamp"],
            "ttl": record["ttl"],
        }
        try:
            self._db.put_item(**self._conditional_put(guard))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self.key_of(message.message_id)
            if existing is None or self._exists(existing):
                return False
            record["timestamp"] = existing["timestamp"]  # repair: the item was never written
        written_at = self._put_unique(record)
        if written_at != guard["item_timestamp"]:
            self._db.update_item(
                TableName=self.table,
                Key=_to_item(guard_key),
                UpdateExpression="SET item_timestamp = :t",
                ExpressionAttributeValues=_to_item({":t": written_at}),
            )
        self._remember(
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
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                record["timestamp"] = _next_millisecond(record["timestamp"])
        raise RuntimeError(f"no free timestamp for message {record['message_id']}")

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

    def mark_sent(self, message_id: str, wamids: list[str], rank: int = 1) -> bool:
        """After a send: let each wamid Meta returned find the logged reply, and mark it `sent`.

        One read of the reply's key, then the alias guards and the status update.
        """
        key = self.key_of(message_id)
        if key is None:
            return False
        expires = int(time.time()) + self.ttl_days * 86_400
        for wamid in wamids:
            self._db.put_item(
                TableName=self.table,
                Item=_to_item(
                    {
                        "user_id": _GUARD_PREFIX + wamid,
                        "timestamp": _GUARD_SORT,
                        "item_user_id": key["user_id"],
                        "item_timestamp": key["timestamp"],
                        "ttl": expires,
                    }
                ),
            )
        # The item names Meta's ids too, so an erasure finds these aliases without a scan.
        if not self._advance(key, "sent", rank, {"wamids": wamids}):
            try:
                self._db.update_item(
                    TableName=self.table,
                    Key=_to_item(key),
                    UpdateExpression="SET wamids = :w",
                    ConditionExpression="attribute_exists(user_id)",  # not an erased item
                    ExpressionAttributeValues=_to_item({":w": wamids}),
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return True

    def link_message_id(self, alias: str, message_id: str) -> bool:
        """Let `alias` (e.g. the wamid Meta gave a sent message) find the item of `message_id`."""
        key = self.key_of(message_id)
        if key is None:
            return False
        guard = {
            "user_id": _GUARD_PREFIX + alias,
            "timestamp": _GUARD_SORT,
            "item_user_id": key["user_id"],
            "item_timestamp": key["timestamp"],
            "ttl": int(time.time()) + self.ttl_days * 86_400,
        }
        self._db.put_item(TableName=self.table, Item=_to_item(guard))
        return True

    def advance_status(self, message_id: str, status: str, rank: int, **attributes: Any) -> bool:
        """Move a message's delivery status forward only (a late `sent` never overwrites `read`).

        Returns False when the message is unknown or already at this rank or beyond.
        """
        key = self.key_of(message_id)
        if key is None:
            return False
        return self._advance(key, status, rank, attributes)

    def _advance(
        self, key: dict[str, str], status: str, rank: int, attributes: dict[str, Any]
    ) -> bool:
        values = {"status": status, "status_rank": rank, **attributes}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_to_item(key),
                UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
                # Never recreate an erased item; never move a status back.
                ConditionExpression="attribute_exists(user_id) "
                "AND (attribute_not_exists(#a1) OR #a1 < :v1)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item(
                    {f":v{i}": value for i, value in enumerate(values.values())}
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update_status(self, message_id: str, status: str, **attributes: Any) -> bool:
        """Set `status` (and extra attributes) on a logged message. False when it is unknown."""
        key = self.key_of(message_id)
        if key is None:
            return False
        values = {"status": status, **attributes}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        self._db.update_item(
            TableName=self.table,
            Key=_to_item(key),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item(
                {f":v{i}": value for i, value in enumerate(values.values())}
            ),
        )
        return True

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
            keys.append({"user_id": _GUARD_PREFIX + item["message_id"], "timestamp": _GUARD_SORT})
        self._forget_user(user_id)
        for start in range(0, len(keys), 25):
            requests = {
                self.table: [
                    {"DeleteRequest": {"Key": _to_item(k)}} for k in keys[start : start + 25]
                ]
            }
            while requests:
                response = self._db.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or {}
        return len(keys) // 2

    # Reads ----------------------------------------------------------------------------------

    def key_of(self, message_id: str) -> dict[str, str] | None:
        """The (user_id, timestamp) key of a logged message: from memory when this process
        logged it, else from its guard item."""
        if (known := self._recalled(message_id)) is not None:
            return {"user_id": known.user_id, "timestamp": known.timestamp}
        response = self._db.get_item(
            TableName=self.table,
            Key=_to_item({"user_id": _GUARD_PREFIX + message_id, "timestamp": _GUARD_SORT}),
        )
        if "Item" not in response:
            return None
        guard = _from_item(response["Item"])
        return {"user_id": guard["item_user_id"], "timestamp": guard["item_timestamp"]}

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
        return self._recalled(message_id) or self.get(message_id)

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

    def _query_all(self, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, **query):
            items.extend(_from_item(item) for item in page["Items"])
        return items

    # Async twins ----------------------------------------------------------------------------

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
        if (known := self._recalled(message_id)) is not None:
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
