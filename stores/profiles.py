"""User profiles (`<prefix>user-profiles`, the data-architecture document's `UserProfiles`).

One item per person: `user_id`, `created_date` (`YYYY-MM-DD`, GSI `CreatedDateIndex`),
`last_interaction`, `total_conversations` (sessions), `preferred_language`, and the stats
`total_turns` (answered turns), `escalations_count` and `common_topics` (agent -> turns).
It is updated after a reply went out (`ReplySender`, in the background), never on the way to the
reply, from the turn's own logged items; `last_session_id` makes a repeated update of the
same session count it once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import ClientError

from stores.codec import from_item, to_item
from stores.models import ConversationMessage, utc_now_iso, whatsapp_user_id


class ProfileStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self.table = table

    def get(self, wa_id: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self.table,
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def record_turn(
        self,
        wa_id: str,
        *,
        session_id: str,
        turns: int = 1,
        agent_id: str | None = None,
        language: str | None = None,
        escalated: bool = False,
        at: str | None = None,
    ) -> None:
        """Count an answered turn (or `turns`) of the person."""
        at = at or utc_now_iso()
        key = to_item({"user_id": whatsapp_user_id(wa_id)})
        values: dict[str, Any] = {
            ":at": at,
            ":day": at[:10],
            ":n": turns,
            ":e": int(escalated),
            ":empty": {},
        }
        update = (
            "SET last_interaction = :at, created_date = if_not_exists(created_date, :day), "
            "common_topics = if_not_exists(common_topics, :empty) "
            "ADD total_turns :n, escalations_count :e"
        )
        if language:
            update = update.replace("SET ", "SET preferred_language = :lang, ", 1)
            values[":lang"] = language
        self._db.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression=update,
            ExpressionAttributeValues=to_item(values),
        )
        if agent_id:
            self._db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET common_topics.#a = "
                "if_not_exists(common_topics.#a, :zero) + :one",
                ExpressionAttributeNames={"#a": agent_id},
                ExpressionAttributeValues=to_item({":zero": 0, ":one": 1}),
            )
        try:
            self._db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET last_session_id = :s ADD total_conversations :one",
                ConditionExpression="attribute_not_exists(last_session_id) "
                "OR last_session_id <> :s",
                ExpressionAttributeValues=to_item({":s": session_id, ":one": 1}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def record_reply(self, reply: ConversationMessage) -> None:
        """Count the turn a logged bot reply answered."""
        language = reply.metadata.get("language")
        self.record_turn(
            reply.user_id,
            session_id=reply.session_id,
            agent_id=reply.agent_id,
            language=language if isinstance(language, str) else None,
            escalated=reply.escalation_triggered,
            at=reply.timestamp,
        )

    def delete(self, wa_id: str) -> int:
        """Delete the person's profile; 1 when there was one."""
        response = self._db.delete_item(
            TableName=self.table,
            Key=to_item({"user_id": whatsapp_user_id(wa_id)}),
            ReturnValues="ALL_OLD",
        )
        return 1 if response.get("Attributes") else 0

    def created_on(self, day: str) -> list[dict[str, Any]]:
        """Profiles first seen on `day` (`YYYY-MM-DD`), through `CreatedDateIndex`."""
        items: list[dict[str, Any]] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName="CreatedDateIndex",
            KeyConditionExpression="created_date = :d",
            ExpressionAttributeValues={":d": {"S": day}},
        ):
            items += [from_item(item) for item in page["Items"]]
        return items

    async def aget(self, wa_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.get, wa_id)

    async def arecord_turn(self, wa_id: str, **turn: Any) -> None:
        await asyncio.to_thread(lambda: self.record_turn(wa_id, **turn))

    async def arecord_reply(self, reply: ConversationMessage) -> None:
        await asyncio.to_thread(self.record_reply, reply)
