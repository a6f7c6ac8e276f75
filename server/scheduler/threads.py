"""Per customer thread: entries mailed to the thread's mailbox, the thread served by whoever holds
its lock until the mailbox is empty, and a turn answered (with retries) then acknowledged.

The guarantees this keeps across processes are in the package's docstring (`server.scheduler`);
the process-level loops that feed `mail` are `TurnScheduler` (`server.scheduler.loops`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid

import structlog
from redis.asyncio import Redis

from server.locks import ThreadLocks
from server.metrics import Metrics
from server.queue import Entry, InboundItem, InboundQueue, Keys, entry_millis, entry_score
from server.scheduler.burst import Look, burst_wait, decoded, look_at, seen
from server.scheduler.settings import AbandonFn, AnswerFn, PermanentFn, SchedulerSettings

log = structlog.get_logger(__name__)


class ThreadMailboxes:
    """The scheduler's state, and everything it does per thread: mailing, serving, turns."""

    def __init__(
        self,
        *,
        redis: Redis,
        queue: InboundQueue,
        answer: AnswerFn,
        abandon: AbandonFn,
        is_permanent: PermanentFn = lambda error: False,
        metrics: Metrics | None = None,
        settings: SchedulerSettings | None = None,
        name: str | None = None,
    ) -> None:
        self.redis = redis
        self.queue = queue
        self.answer = answer
        self.abandon = abandon
        self.is_permanent = is_permanent
        self.metrics = metrics or Metrics()
        self.settings = settings or SchedulerSettings()
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self.stopping = False
        self._active: dict[str, asyncio.Task[None]] = {}
        self.locks = ThreadLocks(redis, self.name, self.settings.lock_ms)
        self._poked: set[str] = set()
        self._mailed: dict[str, float] = {}
        self._in_turn = 0
        self._slot_freed = asyncio.Event()

    # Mailing and threads --------------------------------------------------------------------

    async def mail(self, entries: list[Entry]) -> None:
        """Put each entry in its thread's mailbox, then make sure someone answers each thread."""
        items: list[InboundItem] = []
        for entry_id, fields in entries:
            try:
                items.append(InboundItem.from_entry(entry_id, fields))
            except KeyError as error:
                log.error("malformed queue entry dropped", entry_id=entry_id, missing=str(error))
                await self.queue.ack([entry_id])
        if not items:
            return
        pipe = self.redis.pipeline(transaction=False)
        for item in items:
            pipe.zadd(Keys.mailbox(item.thread_id), {item.entry_id: entry_score(item.entry_id)})
            self._mailed.setdefault(item.entry_id, time.time())
        await pipe.execute()
        self.metrics.messages_waiting.set(len(self._mailed))
        for thread_id in dict.fromkeys(item.thread_id for item in items):
            if thread_id in self._active:
                self._poked.add(thread_id)
            else:
                self._active[thread_id] = asyncio.create_task(self._serve(thread_id))
        self.metrics.turns_in_flight.set(self._in_turn)

    async def _serve(self, thread_id: str) -> None:
        """Hold the thread's lock and answer its mailbox until it is empty."""
        try:
            while await self.locks.acquire(thread_id):
                try:
                    await self._drain(thread_id)
                except BaseException:
                    with contextlib.suppress(Exception):
                        await self.locks.release(thread_id)
                    raise
                if self.stopping or thread_id not in self._poked:
                    return
        except Exception as error:
            log.error("thread left for takeover", thread=thread_id, error=repr(error)[:300])
        finally:
            self._active.pop(thread_id, None)
            self._slot_freed.set()

    async def _drain(self, thread_id: str) -> None:
        mailbox = Keys.mailbox(thread_id)
        look: Look | None = None  # None: read the mailbox (and the clock) again
        while True:
            if look is None:
                self._poked.discard(thread_id)
                pipe = self.redis.pipeline(transaction=False)
                look_at(pipe, thread_id, self.settings.burst_window_ms)
                look = seen(await pipe.execute(), self.settings.burst_window_ms)
            ids = look.ids
            if not ids:
                if await self.locks.release_if_empty(thread_id) != 0:
                    return  # released (or lost to another worker, which then answers)
                look = None
                continue
            if self.stopping:
                await self.locks.release(thread_id)
                return
            wait = burst_wait(look, self.settings.burst_window_ms)
            look = None
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            entries = await self.queue.fetch(ids)
            found = {entry_id for entry_id, _ in entries}
            if missing := [i for i in ids if i not in found]:
                await self.redis.zrem(mailbox, *missing)  # trimmed from the stream
            if entries:
                left = await self._turn(
                    thread_id, [InboundItem.from_entry(e, f) for e, f in entries]
                )
                if not left:  # the usual case: nothing came meanwhile, no need to look again
                    look = Look([], 0, None)

    async def _turn(self, thread_id: str, items: list[InboundItem]) -> list[str]:
        """Answer `items` as one turn, then acknowledge them; what the thread's mailbox holds
        now comes back from the same round trip."""
        now = time.time()
        for item in items:
            self.metrics.message_wait_seconds.observe(
                max(0.0, now - entry_millis(item.entry_id) / 1000)
            )
            self._mailed.pop(item.entry_id, None)
        self.metrics.messages_waiting.set(len(self._mailed))
        self._in_turn += 1
        self.metrics.turns_in_flight.set(self._in_turn)
        try:
            await self._answer_with_retries(items)
        finally:
            self._in_turn -= 1
            self.metrics.turns_in_flight.set(self._in_turn)
        ids = [item.entry_id for item in items]
        self._poked.discard(thread_id)  # the mailbox is read below, after this
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(self.queue.stream, self.queue.group, *ids)
        pipe.xdel(self.queue.stream, *ids)
        pipe.zrem(Keys.mailbox(thread_id), *ids)
        pipe.zrange(Keys.mailbox(thread_id), 0, -1)
        return [decoded(i) for i in (await pipe.execute())[-1]]

    async def _answer_with_retries(self, items: list[InboundItem]) -> None:
        """Answer; retry with backoff in this task (other customers go on); give up politely
        after `max_deliveries` attempts, or at once for input that can never succeed."""
        key = Keys.attempts(items[-1].message_id)
        while True:
            try:
                await self.answer(items)
                return
            except Exception as error:
                attempts = int(await self.redis.incr(key))
                await self.redis.expire(key, 86_400)
                permanent = self.is_permanent(error)
                log.error(
                    "turn failed",
                    message_id=items[-1].message_id,
                    attempt=attempts,
                    permanent=permanent,
                    error=repr(error)[:300],
                )
                if permanent or attempts >= self.settings.max_deliveries:
                    await self.abandon(items, error)
                    return
                if self.stopping:
                    raise
                delay = min(30.0, self.settings.retry_backoff_s * 2 ** (attempts - 1))
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
