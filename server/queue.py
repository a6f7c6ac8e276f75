"""The durable inbound queue: a Redis Stream with one consumer group of workers.

`enqueue_once` claims the message id and appends to the stream in one Lua script, so a webhook Meta
delivers twice (it retries for days) is queued once, and a failed append claims nothing.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

STREAM = "wam:inbound"
GROUP = "workers"
SEEN_PREFIX = "wam:seen:"
DEDUPE_SECONDS = 7 * 24 * 3600

_ENQUEUE_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return id
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class InboundQueue:
    def __init__(
        self,
        redis: Redis,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        max_length: int = 1_000_000,
        dedupe_seconds: int = DEDUPE_SECONDS,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.max_length = max_length
        self.dedupe_seconds = dedupe_seconds
        self._enqueue = redis.register_script(_ENQUEUE_ONCE)

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def enqueue_once(self, message_id: str, fields: dict[str, str]) -> str | None:
        """The new entry's id, or None when `message_id` was already queued."""
        flat = [item for pair in fields.items() for item in pair]
        result = await self._enqueue(
            keys=[SEEN_PREFIX + message_id, self.stream],
            args=[self.dedupe_seconds, self.max_length, *flat],
        )
        return _text(result) if result else None

    async def read(
        self, consumer: str, count: int = 16, block_ms: int = 1000
    ) -> list[tuple[str, dict[str, str]]]:
        response: Any = await self.redis.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        return [
            (_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
            for _, entries in response or []
            for entry_id, fields in entries
            if fields
        ]

    async def claim_stale(
        self, consumer: str, min_idle_ms: int, count: int = 32
    ) -> list[tuple[str, dict[str, str]]]:
        """Entries another worker read but did not acknowledge within `min_idle_ms` (it died)."""
        response = await self.redis.xautoclaim(
            self.stream,
            self.group,
            consumer,
            min_idle_time=min_idle_ms,
            start_id="0-0",
            count=count,
        )
        claimed = response[1] if response else []
        return [
            (_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
            for entry_id, fields in claimed
            if fields
        ]

    async def fetch(self, entry_ids: list[str]) -> list[tuple[str, dict[str, str]]]:
        pipe = self.redis.pipeline(transaction=False)
        for entry_id in entry_ids:
            pipe.xrange(self.stream, entry_id, entry_id)
        found = []
        for result in await pipe.execute():
            for entry_id, fields in result:
                found.append((_text(entry_id), {_text(k): _text(v) for k, v in fields.items()}))
        return found

    async def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            await self.redis.xack(self.stream, self.group, *entry_ids)

    async def depth(self) -> int:
        """Entries not yet acknowledged (waiting or in progress)."""
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except ResponseError:
            return 0
        for group in groups:
            if _text(group.get("name", b"")) == self.group:
                lag = group.get("lag") or 0
                return int(group.get("pending", 0)) + int(lag)
        return 0
