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
        """Count an answered turn (or `turns`) of the person: two writes. The session is counted
        first, which also creates the `common_topics` map of a new profile, so the turn's own
        update finds it."""
        at = at or utc_now_iso()
        key = to_item({"user_id": whatsapp_user_id(wa_id)})
        values: dict[str, Any] = {":at": at, ":day": at[:10], ":n": turns, ":e": int(escalated)}
        names: dict[str, str] = {}
        sets = ["last_interaction = :at", "created_date = if_not_exists(created_date, :day)"]
        if language:
            sets.append("preferred_language = :lang")
            values[":lang"] = language
        if agent_id:
            sets.append("common_topics.#a = if_not_exists(common_topics.#a, :zero) + :n")
            names["#a"] = agent_id
            values[":zero"] = 0
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": f"SET {', '.join(sets)} ADD total_turns :n, escalations_count :e",
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            request["ExpressionAttributeNames"] = names
        self._count_session(key, session_id)
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ValidationException":
                raise
            # A new profile has no `common_topics` map to count the agent in: create it, again.
            self._db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET common_topics = if_not_exists(common_topics, :empty)",
                ExpressionAttributeValues=to_item({":empty": {}}),
            )
            self._db.update_item(**request)

    def _count_session(self, key: dict[str, Any], session_id: str) -> None:
        """A turn of a session the profile has not seen yet starts a new conversation."""
        try:
            self._db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET last_session_id = :s, "
                "common_topics = if_not_exists(common_topics, :empty) ADD total_conversations :one",
                ConditionExpression="attribute_not_exists(last_session_id) "
                "OR last_session_id <> :s",
                ExpressionAttributeValues=to_item({":s": session_id, ":one": 1, ":empty": {}}),
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
