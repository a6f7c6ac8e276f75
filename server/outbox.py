"""Where replies go in local mode (no `WHATSAPP_API_BASE_URL`): the simulator's WhatsApp.

A list per customer in Redis (`wam:outbox:<wa_id>`, the last 500 messages, kept 7 days), so the
simulator page shows replies whichever process sent them (`wam serve`, or a separate
`wam worker`). Media the simulator "uploads" (an image, a voice note) is kept the same way and
served to the workers through `download_media`, as Meta's media endpoint would.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from server.whatsapp import WhatsAppApiError

KEEP_SECONDS = 7 * 24 * 3600


@dataclass
class OutboxMessage:
    id: str
    phone_number_id: str
    to: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        if self.payload.get("type") == "text":
            return str(self.payload["text"]["body"])
        if self.payload.get("type") == "template":
            return f"[template {self.payload['template']['name']}]"
        interactive = self.payload.get("interactive", {})
        return str(interactive.get("body", {}).get("text", ""))

    @property
    def options(self) -> list[dict[str, str]]:
        """Reply buttons or list rows: their ids go back with the customer's choice."""
        action = self.payload.get("interactive", {}).get("action", {})
        if "buttons" in action:
            return [
                {"id": b["reply"]["id"], "title": b["reply"]["title"]} for b in action["buttons"]
            ]
        rows = [r for section in action.get("sections", []) for r in section.get("rows", [])]
        return [{"id": r["id"], "title": r["title"] + (r.get("description") or "")} for r in rows]


class LocalOutbox:
    def __init__(self, redis_url: str, limit: int = 500) -> None:
        self.redis_url = redis_url
        self.limit = limit
        self._sync = Redis.from_url(redis_url)
        self._clients: WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedis] = (
            WeakKeyDictionary()
        )

    def _async(self) -> AsyncRedis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = AsyncRedis.from_url(self.redis_url)
        return client

    @staticmethod
    def _key(wa_id: str) -> str:
        return f"wam:outbox:{wa_id}"

    # WhatsAppSender ------------------------------------------------------------------------

    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str:
        message = OutboxMessage(
            f"wamid.local.{uuid.uuid4().hex}", phone_number_id, str(payload["to"]), payload
        )
        key = self._key(message.to)
        pipe = self._async().pipeline(transaction=False)
        pipe.rpush(key, json.dumps(asdict(message)))
        pipe.ltrim(key, -self.limit, -1)
        pipe.expire(key, KEEP_SECONDS)
        await pipe.execute()
        return message.id

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        await self._async().set(f"wam:outbox:read:{message_id}", 1, ex=KEEP_SECONDS)

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        client = self._async()
        found: list[Any] = await client.hmget(  # type: ignore[misc]
            f"wam:outbox:media:{media_id}", ["content", "mime"]
        )
        content, mime = found
        if content is None:
            raise WhatsAppApiError(404, 100, f"unknown media {media_id}")
        return bytes(content), (mime or b"application/octet-stream").decode()

    # The simulator ------------------------------------------------------------------------

    async def put_media(self, content: bytes, mime_type: str) -> str:
        media_id = f"media.local.{uuid.uuid4().hex}"
        key = f"wam:outbox:media:{media_id}"
        client = self._async()
        await client.hset(key, mapping={"content": content, "mime": mime_type})  # type: ignore[misc]
        await client.expire(key, KEEP_SECONDS)
        return media_id

    @staticmethod
    def _decode(raw: list[Any], after: float) -> list[OutboxMessage]:
        found = [OutboxMessage(**json.loads(item)) for item in raw]
        return [m for m in found if m.at > after]

    def for_user(self, wa_id: str, after: float = 0.0) -> list[OutboxMessage]:
        """What `wa_id` received after `after` (a blocking call, for tests and scripts)."""
        return self._decode(self._sync.lrange(self._key(wa_id), 0, -1), after)  # type: ignore[arg-type]

    async def messages(self, wa_id: str, after: float = 0.0) -> list[OutboxMessage]:
        raw = await self._async().lrange(self._key(wa_id), 0, -1)  # type: ignore[misc]
        return self._decode(raw, after)

    async def wait(self, wa_id: str, after: float, seconds: float) -> list[OutboxMessage]:
        """Messages newer than `after`, waiting up to `seconds` for the first."""
        deadline = time.monotonic() + seconds
        while True:
            found = await self.messages(wa_id, after)
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(0.2)
