"""The durable inbound queue: a Redis Stream with one consumer group, its wire format and keys.

`enqueue_once` claims the message id, appends to the stream and records the thread's newest entry
in one Lua script, so a webhook Meta delivers twice (it retries for days) is queued once, a failed
append claims nothing, and a thread's burst window sees messages nobody has read yet.

Both sides of the queue share this module: the webhook writes `queue_fields`, the scheduler reads
`InboundItem`s; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

STREAM = "wam:inbound"
GROUP = "workers"
SEEN_PREFIX = "wam:seen:"
DEDUPE_SECONDS = 7 * 24 * 3600
NEWEST_SECONDS = 3600
# Replies carry `biz_opaque_callback_data = CALLBACK_PREFIX + <inbound message id>`; Meta echoes it
# in status webhooks, which is how a send interrupted by a crash is reconciled.
CALLBACK_PREFIX = "reply-to:"

_ENQUEUE_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
redis.call('SET', KEYS[3], id, 'EX', ARGV[3])
return id
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def thread_id_of(phone_number_id: str, wa_id: str) -> str:
    """One conversation thread per business number and customer."""
    return f"{phone_number_id}:{wa_id}"


class Keys:
    """Every Redis key the channel writes, in one place (the names are the wire contract
    between webhook, scheduler and sender processes)."""

    @staticmethod
    def mailbox(thread_id: str) -> str:
        return f"wam:mbox:{thread_id}"

    @staticmethod
    def lock(thread_id: str) -> str:
        return f"wam:lock:{thread_id}"

    @staticmethod
    def newest(thread_id: str) -> str:
        return f"wam:newest:{thread_id}"

    @staticmethod
    def newest_message(thread_id: str) -> str:
        """The SQS backend's record of a thread's newest message: `<redis ms> <message id>`."""
        return f"wam:newest-msg:{thread_id}"

    @staticmethod
    def attempts(message_id: str) -> str:
        return f"wam:attempts:{message_id}"

    @staticmethod
    def reply(message_id: str) -> str:
        return f"wam:reply:{message_id}"

    @staticmethod
    def sent(message_id: str) -> str:
        return f"wam:sent:{message_id}"

    @staticmethod
    def taken(message_id: str) -> str:
        """Meta reported a status for the reply to `message_id`: it took the send."""
        return f"wam:taken:{message_id}"

    @staticmethod
    def opt_in(phone_number_id: str, wa_id: str) -> str:
        return f"wam:optin:{phone_number_id}:{wa_id}"

    @staticmethod
    def pace(phone_number_id: str) -> str:
        return f"wam:pace:{phone_number_id}"


def entry_millis(entry_id: str) -> int:
    """When the stream accepted an entry (Redis's clock, milliseconds)."""
    return int(entry_id.partition("-")[0])


def entry_score(entry_id: str) -> float:
    """A sorted-set score that keeps stream order."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds) * 1000 + int(sequence or 0)


@dataclass(frozen=True)
class InboundItem:
    """One inbound message as queued by the webhook."""

    entry_id: str
    message_id: str
    phone_number_id: str
    wa_id: str
    type: str
    text: str
    media_id: str = ""
    mime_type: str = ""
    contact_name: str = ""
    reply_id: str = ""

    @classmethod
    def from_entry(cls, entry_id: str, fields: dict[str, str]) -> InboundItem:
        """Raises KeyError naming a missing required field."""
        return cls(
            entry_id=entry_id,
            message_id=fields["message_id"],
            phone_number_id=fields["phone_number_id"],
            wa_id=fields["wa_id"],
            type=fields.get("type", "text"),
            text=fields.get("text", ""),
            media_id=fields.get("media_id", ""),
            mime_type=fields.get("mime_type", ""),
            contact_name=fields.get("contact_name", ""),
            reply_id=fields.get("reply_id", ""),
        )

    @property
    def thread_id(self) -> str:
        return thread_id_of(self.phone_number_id, self.wa_id)


def queue_fields(**values: Any) -> dict[str, str]:
    """Stream fields are strings; empty values are left out."""
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


Entry = tuple[str, dict[str, str]]


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
        thread = thread_id_of(fields["phone_number_id"], fields["wa_id"])
        result = await self._enqueue(
            keys=[SEEN_PREFIX + message_id, self.stream, Keys.newest(thread)],
            args=[self.dedupe_seconds, self.max_length, NEWEST_SECONDS, *flat],
        )
        return _text(result) if result else None

    @staticmethod
    def _entries(raw: Any) -> list[Entry]:
        return [
            (_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
            for entry_id, fields in raw or []
            if fields
        ]

    async def read(self, consumer: str, count: int = 16, block_ms: int = 1000) -> list[Entry]:
        response: Any = await self.redis.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        return [entry for _, entries in response or [] for entry in self._entries(entries)]

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int = 32) -> list[Entry]:
        """Entries another consumer read but did not acknowledge within `min_idle_ms` (it died)."""
        response = await self.redis.xautoclaim(
            self.stream,
            self.group,
            consumer,
            min_idle_time=min_idle_ms,
            start_id="0-0",
            count=count,
        )
        return self._entries(response[1] if response else [])

    async def fetch(self, entry_ids: list[str]) -> list[Entry]:
        pipe = self.redis.pipeline(transaction=False)
        for entry_id in entry_ids:
            pipe.xrange(self.stream, entry_id, entry_id)
        return [entry for result in await pipe.execute() for entry in self._entries(result)]

    async def ack(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete: a handled entry is never needed again, so the stream stays
        as long as the work in progress, not as long as the history."""
        if entry_ids:
            pipe = self.redis.pipeline(transaction=False)
            pipe.xack(self.stream, self.group, *entry_ids)
            pipe.xdel(self.stream, *entry_ids)
            await pipe.execute()

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

    async def remove_idle_consumers(self, idle_ms: int, keep: str) -> int:
        """Forget consumers (stopped processes) with nothing pending, idle for `idle_ms`."""
        try:
            consumers = await self.redis.xinfo_consumers(self.stream, self.group)
        except ResponseError:
            return 0
        removed = 0
        for consumer in consumers:
            name = _text(consumer.get("name", b""))
            if (
                name == keep
                or int(consumer.get("pending", 0))
                or int(consumer.get("idle", 0)) < idle_ms
            ):
                continue
            await self.redis.xgroup_delconsumer(self.stream, self.group, name)
            removed += 1
        return removed
