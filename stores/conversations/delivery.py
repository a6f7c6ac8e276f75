"""A logged message's delivery status (sent, delivered, read, failed) and Meta's ids for it.

Statuses only move forward (`advance_status`, by rank) and never recreate an erased item; each
wamid Meta returns for a sent reply gets its own guard item, so a status webhook naming it finds
the reply without a scan.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stores.codec import to_item as _to_item
from stores.conversations.table import ConversationTable, is_conditional_failure


def _set_expression(values: dict[str, Any]) -> dict[str, Any]:
    """The UpdateExpression, names and values of an update that sets every field of `values`."""
    return {
        "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(values)},
        "ExpressionAttributeValues": _to_item(
            {f":v{i}": value for i, value in enumerate(values.values())}
        ),
    }


class DeliveryStatuses(ConversationTable):
    """Delivery statuses of logged messages, and the aliases (wamids) that find them."""

    def mark_sent(self, message_id: str, wamids: list[str], rank: int = 1) -> bool:
        """After a send: let each wamid Meta returned find the logged reply, and mark it `sent`.

        One read of the reply's key, then the alias guards and the status update.
        """
        key = self.key_of(message_id)
        if key is None:
            return False
        expires = self._expiry()
        for wamid in wamids:
            self._put_guard(wamid, key, expires)
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
                if not is_conditional_failure(error):
                    raise
        return True

    def link_message_id(self, alias: str, message_id: str) -> bool:
        """Let `alias` (e.g. the wamid Meta gave a sent message) find the item of `message_id`."""
        key = self.key_of(message_id)
        if key is None:
            return False
        self._put_guard(alias, key, self._expiry())
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
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_to_item(key),
                # Never recreate an erased item; never move a status back.
                ConditionExpression="attribute_exists(user_id) "
                "AND (attribute_not_exists(#a1) OR #a1 < :v1)",
                **_set_expression(values),
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def update_status(self, message_id: str, status: str, **attributes: Any) -> bool:
        """Set `status` (and extra attributes) on a logged message. False when it is unknown."""
        key = self.key_of(message_id)
        if key is None:
            return False
        self._db.update_item(
            TableName=self.table,
            Key=_to_item(key),
            **_set_expression({"status": status, **attributes}),
        )
        return True
