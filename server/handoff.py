"""Human handoff: who answers a customer thread, the bot or a person.

A thread is `bot` (the default), `waiting` (the customer asked for a person, an agent escalated,
or turns kept failing), `assigned` (a person took it) or `resolved` (given back; the next message
goes to the bot, which first reads what was said meanwhile). While a thread is waiting or assigned
the bot is silent: the customer's messages are logged and shown in the inbox.

State lives in Redis (durable with AOF; every process sees it): a hash per thread
(`wam:handoff:<thread_id>`), an index per business account (`wam:handoff:idx:<phone_number_id>`,
by last change), one of its held threads (`wam:handoff:idx:held:<phone_number_id>`, what the
timers walk) and the transcript of the handoff (`wam:handoff:log:<thread_id>`), which the bot
reads when it takes the thread back. Every change is also logged in DynamoDB (direction
`internal`, role `system`), and a person's messages with role `human_agent` and their name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import httpx
import structlog
from redis.asyncio import Redis
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from server.masking import mask_phone
from stores import ConversationMessage, Stores, whatsapp_user_id

log = structlog.get_logger(__name__)

HandoffState = Literal["bot", "waiting", "assigned", "resolved"]
STATES: tuple[HandoffState, ...] = ("bot", "waiting", "assigned", "resolved")
HELD: frozenset[str] = frozenset({"waiting", "assigned"})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class HandoffRecord:
    thread_id: str
    phone_number_id: str
    wa_id: str
    state: HandoffState = "bot"
    agent: str = ""
    reason: str = ""
    since: float = 0.0
    updated: float = 0.0
    last_text: str = ""
    last_customer_at: float = 0.0
    waiting_update_sent: bool = False
    language: str = "en"

    @property
    def held(self) -> bool:
        """A person holds (or is about to hold) the thread: the bot stays silent."""
        return self.state in HELD


@dataclass
class TranscriptEntry:
    role: Literal["user", "human_agent"]
    text: str
    name: str = ""
    message_id: str = field(default_factory=lambda: f"handoff.{uuid.uuid4().hex}")
    at: float = field(default_factory=time.time)


# What every change of a thread touches: a write guarded on them sees any change in between.
_GUARDED = ("state", "since", "updated", "waiting_update_sent")


class HandoffStore:
    """The Redis side: records, the per-account index, the transcript."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(thread_id: str) -> str:
        return f"wam:handoff:{thread_id}"

    @staticmethod
    def index(phone_number_id: str) -> str:
        return f"wam:handoff:idx:{phone_number_id}"

    @staticmethod
    def held_index(phone_number_id: str) -> str:
        """The account's threads a person holds or is asked for (what the timers look at)."""
        return f"wam:handoff:idx:held:{phone_number_id}"

    @staticmethod
    def transcript_key(thread_id: str) -> str:
        return f"wam:handoff:log:{thread_id}"

    async def get(self, thread_id: str) -> HandoffRecord | None:
        raw = await self.redis.hgetall(self.key(thread_id))  # type: ignore[misc]
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in raw.items()}
        return HandoffRecord(
            thread_id=thread_id,
            phone_number_id=data["phone_number_id"],
            wa_id=data["wa_id"],
            state=data.get("state", "bot"),  # type: ignore[arg-type]
            agent=data.get("agent", ""),
            reason=data.get("reason", ""),
            since=float(data.get("since", 0) or 0),
            updated=float(data.get("updated", 0) or 0),
            last_text=data.get("last_text", ""),
            last_customer_at=float(data.get("last_customer_at", 0) or 0),
            waiting_update_sent=data.get("waiting_update_sent") == "1",
            language=data.get("language", "en"),
        )

    @staticmethod
    def fields(record: HandoffRecord) -> dict[FieldT, EncodableT]:
        """The record as its hash stores it."""
        values = asdict(record)
        values["waiting_update_sent"] = "1" if record.waiting_update_sent else "0"
        return {k: str(v) for k, v in values.items()}

    def _indexed(self, pipe: Any, record: HandoffRecord) -> None:
        pipe.zadd(self.index(record.phone_number_id), {record.thread_id: record.updated})
        if record.held:
            pipe.zadd(self.held_index(record.phone_number_id), {record.thread_id: record.updated})
        else:
            pipe.zrem(self.held_index(record.phone_number_id), record.thread_id)

    async def put(self, record: HandoffRecord) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key(record.thread_id), mapping=self.fields(record))
        self._indexed(pipe, record)
        await pipe.execute()

    async def put_if(self, record: HandoffRecord, read: HandoffRecord) -> bool:
        """`put`, only if the stored thread is still as `read` was (its state, since, last update
        and update flag), compared and written atomically (WATCH/MULTI); False when someone
        changed the thread in between (another sweep, a person, the customer)."""
        key = self.key(record.thread_id)
        guard = {k: v for k, v in self.fields(read).items() if k in _GUARDED}
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                current = await pipe.hmget(key, list(guard))  # type: ignore[misc]
                if [None if v is None else _text(v) for v in current] != list(guard.values()):
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.hset(key, mapping=self.fields(record))
                self._indexed(pipe, record)
                await pipe.execute()
            except WatchError:
                return False
        return True

    async def records(self, phone_number_id: str, limit: int = 200) -> list[HandoffRecord]:
        threads = await self.redis.zrevrange(self.index(phone_number_id), 0, limit - 1)
        records = [await self.get(_text(t)) for t in threads]
        return [r for r in records if r is not None]

    async def every_record(
        self, phone_number_id: str, page: int = 500, *, held: bool = False
    ) -> AsyncIterator[HandoffRecord]:
        """Every thread of the account (with `held`, those a person holds or is asked for),
        oldest change first, a page at a time. A thread changed during the walk may be seen
        twice or not at all."""
        index = self.held_index(phone_number_id) if held else self.index(phone_number_id)
        start = 0
        while True:
            threads = await self.redis.zrange(index, start, start + page - 1)
            for thread in threads:
                record = await self.get(_text(thread))
                if record is not None:
                    yield record
            if len(threads) < page:
                return
            start += page

    async def build_held_index(self, phone_number_id: str) -> None:
        """Once per account: index the held threads of a version that kept only the index of
        every thread (threads changed since are indexed as they change)."""
        marker = f"wam:handoff:held-built:{phone_number_id}"
        if await self.redis.exists(marker):
            return
        async for record in self.every_record(phone_number_id):
            if record.held:
                await self.redis.zadd(
                    self.held_index(phone_number_id), {record.thread_id: record.updated}
                )
        await self.redis.set(marker, "1")

    async def append(self, thread_id: str, entry: TranscriptEntry) -> None:
        await self.redis.rpush(self.transcript_key(thread_id), json.dumps(asdict(entry)))  # type: ignore[misc]

    async def transcript(self, thread_id: str) -> list[TranscriptEntry]:
        raw = await self.redis.lrange(self.transcript_key(thread_id), 0, -1)  # type: ignore[misc]
        return [TranscriptEntry(**json.loads(item)) for item in raw]

    async def clear_transcript(self, thread_id: str) -> None:
        await self.redis.delete(self.transcript_key(thread_id))


@dataclass
class HandoffSettings:
    webhook_url: str | None = None
    webhook_secret: str = ""
    waiting_update_seconds: float = 600.0
    assigned_idle_seconds: float = 1800.0


def _apply(record: HandoffRecord, state: HandoffState, agent: str, reason: str) -> None:
    now = time.time()
    if state != record.state:
        record.since = now
        record.waiting_update_sent = False
    record.state = state
    record.updated = now
    if agent or state in ("bot", "waiting"):
        record.agent = agent
    if reason:
        record.reason = reason


class Handoff:
    """State changes, each logged in DynamoDB, and the signed alert when a thread starts
    waiting."""

    def __init__(
        self, redis: Redis, stores: Stores, settings: HandoffSettings | None = None
    ) -> None:
        self.store = HandoffStore(redis)
        self.stores = stores
        self.settings = settings or HandoffSettings()
        self._alerts: set[asyncio.Task[None]] = set()

    async def record(self, phone_number_id: str, wa_id: str) -> HandoffRecord:
        thread_id = f"{phone_number_id}:{wa_id}"
        found = await self.store.get(thread_id)
        return found or HandoffRecord(thread_id, phone_number_id, wa_id)

    async def change(
        self, record: HandoffRecord, state: HandoffState, *, agent: str = "", reason: str = ""
    ) -> HandoffRecord:
        previous = record.state
        _apply(record, state, agent, reason)
        await self.store.put(record)
        await self._changed(record, previous)
        return record

    async def change_if_untouched(
        self, record: HandoffRecord, state: HandoffState, *, reason: str = ""
    ) -> bool:
        """`change`, only if nobody changed the thread since `record` was read (checked and
        written atomically): of two sweeps, or a sweep and a person acting at once, one wins."""
        read = replace(record)
        _apply(record, state, "", reason)
        if not await self.store.put_if(record, read):
            return False
        await self._changed(record, read.state)
        return True

    async def _changed(self, record: HandoffRecord, previous: HandoffState) -> None:
        state = record.state
        if state != previous:
            await self._log_change(record, previous)
            log.info(
                "handoff state changed",
                thread=f"{record.phone_number_id}:{mask_phone(record.wa_id)}",
                state=state,
                previous=previous,
            )
            if state == "waiting":
                task = asyncio.create_task(self.notify(record))
                self._alerts.add(task)
                task.add_done_callback(self._alerts.discard)

    async def escalate(
        self, phone_number_id: str, wa_id: str, reason: str, language: str = "en"
    ) -> HandoffRecord:
        record = await self.record(phone_number_id, wa_id)
        if record.held:
            return record
        record.language = language
        return await self.change(record, "waiting", reason=reason or "customer asked for a person")

    async def customer_wrote(self, record: HandoffRecord, text: str, message_id: str) -> None:
        """A customer message while a person holds the thread: logged, in the transcript."""
        record.last_text = text[:500]
        record.last_customer_at = time.time()
        record.updated = record.last_customer_at
        await self.store.put(record)
        await self.store.append(
            record.thread_id, TranscriptEntry("user", text, message_id=message_id)
        )

    async def person_wrote(self, record: HandoffRecord, agent: str, text: str) -> TranscriptEntry:
        entry = TranscriptEntry("human_agent", text, name=agent)
        record.updated = entry.at
        await self.store.put(record)
        await self.store.append(record.thread_id, entry)
        await self.stores.conversations.aappend(
            ConversationMessage(
                user_id=whatsapp_user_id(record.wa_id),
                session_id=f"handoff:{record.thread_id}",
                message_id=entry.message_id,
                direction="outbound",
                role="human_agent",
                content=text,
                agent_id=f"human:{agent}",
                business_account_id=record.phone_number_id,
                metadata={"human_agent": agent, "handoff_state": record.state},
            )
        )
        return entry

    async def _log_change(self, record: HandoffRecord, previous: str) -> None:
        try:
            await self.stores.conversations.aappend(
                ConversationMessage(
                    user_id=whatsapp_user_id(record.wa_id),
                    session_id=f"handoff:{record.thread_id}",
                    message_id=f"handoff.{uuid.uuid4().hex}",
                    direction="internal",
                    role="system",
                    content=f"handoff: {previous} -> {record.state}",
                    business_account_id=record.phone_number_id,
                    escalation_triggered=record.state == "waiting",
                    metadata={
                        "handoff_state": record.state,
                        "previous_state": previous,
                        "human_agent": record.agent or None,
                        "reason": record.reason or None,
                    },
                )
            )
        except Exception as error:  # the state itself is in Redis; the log is the record
            log.warning("handoff change not logged", error=repr(error)[:200])

    async def notify(self, record: HandoffRecord) -> None:
        """POST a signed `handoff.waiting` event to `HANDOFF_WEBHOOK_URL`, if configured."""
        url = self.settings.webhook_url
        if not url:
            return
        body = json.dumps(
            {
                "event": "handoff.waiting",
                "thread_id": record.thread_id,
                "phone_number_id": record.phone_number_id,
                "wa_id": record.wa_id,
                "reason": record.reason,
                "at": record.since,
            }
        ).encode()
        digest = hmac.new(self.settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "x-signature-256": f"sha256={digest}"}
        for attempt in range(3):
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.post(url, content=body, headers=headers)
                if response.status_code < 500:
                    return
            except httpx.HTTPError as error:
                log.warning("handoff alert not delivered", attempt=attempt + 1, error=str(error))
        log.error("handoff alert gave up", thread=record.thread_id.split(":")[0])


@dataclass
class SweepResult:
    """What one pass of the timers did."""

    waiting_updates: int = 0
    released: int = 0
    failed: int = 0


class HandoffTimers:
    """What nobody acts on: a waiting thread not taken within `waiting_update_seconds` gets a
    polite update (once), and an assigned thread idle for `assigned_idle_seconds` goes back to
    the bot. `run` sweeps every `interval` seconds (one process at a time: a short Redis lock);
    `run_once` is one pass, on its own safe to run twice or twice at once (two processes, two
    Lambda invocations): each action is first claimed on the thread's record, atomically, and
    its message is sent once per thread and state (`send` keys it on `since`)."""

    def __init__(
        self,
        handoff: Handoff,
        phone_number_ids: list[str],
        send: SendFn,
        interval: float = 15.0,
    ) -> None:
        self.handoff = handoff
        self.phone_number_ids = phone_number_ids
        self.send = send
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                lock = await self.handoff.store.redis.set(
                    "wam:handoff:sweep", "1", nx=True, px=int(self.interval * 900)
                )
                if lock:
                    await self.run_once()
            except Exception as error:
                log.warning("handoff sweep failed", error=repr(error)[:200])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def run_once(self, now: float | None = None) -> SweepResult:
        """One pass over every account's threads; a thread that fails is counted and the pass
        goes on (a waiting update that failed is tried again by the next pass)."""
        now = time.time() if now is None else now
        result = SweepResult()
        store = self.handoff.store
        for number in self.phone_number_ids:
            await store.build_held_index(number)
            # Only the held threads: a pass costs the threads in handoff now, not every thread
            # ever handed off.
            async for record in store.every_record(number, held=True):
                if not record.held:  # given back in a way that left it indexed: forget it
                    await store.redis.zrem(store.held_index(number), record.thread_id)
                    continue
                try:
                    await self._act(record, now, result)
                except Exception as error:
                    result.failed += 1
                    log.warning(
                        "handoff timer failed",
                        thread=f"{record.phone_number_id}:{mask_phone(record.wa_id)}",
                        state=record.state,
                        error=repr(error)[:200],
                    )
        return result

    async def _act(self, record: HandoffRecord, now: float, result: SweepResult) -> None:
        settings = self.handoff.settings
        store = self.handoff.store
        if record.state == "waiting" and not record.waiting_update_sent:
            if now - record.since < settings.waiting_update_seconds:
                return
            claimed = replace(record, waiting_update_sent=True)
            if not await store.put_if(claimed, record):
                return  # another pass claimed it, or the thread changed meanwhile
            try:
                await self.send(claimed, "waiting_update")
            except BaseException:
                await store.put_if(record, claimed)  # not sent: the next pass tries again
                raise
            result.waiting_updates += 1
            return
        idle = record.state == "assigned" and now - record.updated >= settings.assigned_idle_seconds
        if idle and await self.handoff.change_if_untouched(
            record, "resolved", reason="idle: back to the bot"
        ):
            result.released += 1
            await self.send(record, "back_to_bot")


SendFn = Callable[[HandoffRecord, str], Awaitable[None]]
