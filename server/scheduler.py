"""The turn scheduler: many customers at once, one turn at a time per customer.

One scheduler per process reads the inbound stream and runs up to `max_concurrent_turns` customer
threads (`<phone_number_id>:<wa_id>`) concurrently, each in its own task, so no customer waits
behind another customer's turn, burst window or retry. When every slot is taken it stops reading
(backpressure): entries stay in the stream for this or another process.

Per thread, across processes:
- every entry read goes into the thread's mailbox (a sorted set of stream ids);
- whoever holds the thread's lock answers everything in the mailbox as one turn, after the burst
  window: messages that arrive within `burst_window_ms` of the newest one (the webhook records the
  newest entry per thread, read or not) or while a turn runs join the next turn;
- the lock is released only when the mailbox is empty (atomically), and whoever adds an entry after
  that takes the lock, so no entry is left behind;
- entries are acknowledged (and deleted from the stream) only after the reply is sent and the turn
  logged; a dead process's entries are claimed by another after the visibility timeout
  (`XAUTOCLAIM`) and replayed (the reply cache and the sent record keep the model from running
  twice and the customer from getting two replies).

Graceful stop: reading stops, turns in progress finish within `shutdown_grace_s`, threads not yet
started are left to the other processes (their entries are claimed after the visibility timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.locks import ThreadLocks
from server.metrics import Metrics
from server.queue import Entry, InboundItem, InboundQueue, Keys, entry_millis, entry_score

log = structlog.get_logger(__name__)

UNMAILED_GRACE_MS = 1000  # how long a turn waits for an entry queued but not yet read


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class SchedulerSettings:
    max_concurrent_turns: int = 256
    visibility_timeout_ms: int = 60_000
    lock_ttl_ms: int | None = None  # default: the visibility timeout (refreshed while alive)
    max_deliveries: int = 5
    burst_window_ms: int = 800
    retry_backoff_s: float = 1.0
    shutdown_grace_s: float = 25.0
    read_batch: int = 64

    @property
    def lock_ms(self) -> int:
        return self.lock_ttl_ms or self.visibility_timeout_ms


@dataclass
class _Look:
    """A thread's mailbox (stream ids, oldest first), Redis's clock, the newest entry queued."""

    ids: list[str]
    now_ms: int
    newest_queued: str | None


AnswerFn = Callable[[list[InboundItem]], Awaitable[None]]
AbandonFn = Callable[[list[InboundItem], BaseException], Awaitable[None]]
PermanentFn = Callable[[BaseException], bool]


class TurnScheduler:
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

    # The process-level loops ----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Read, claim and answer until `stop` is set; then finish gracefully."""
        await self.queue.ensure_group()
        log.info("scheduler started", worker=self.name, slots=self.settings.max_concurrent_turns)
        keeper = asyncio.create_task(self.locks.keep())
        claimer = asyncio.create_task(self._claim_loop(stop))
        try:
            await self._read_loop(stop)
        finally:
            claimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claimer
            await self._finish_in_flight()
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            log.info("scheduler stopped", worker=self.name)

    @property
    def free_slots(self) -> int:
        return self.settings.max_concurrent_turns - len(self._active)

    async def _read_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.free_slots <= 0:  # backpressure: leave entries in the stream
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), 0.5)
                continue
            try:
                count = min(self.free_slots, self.settings.read_batch)
                await self.mail(await self.queue.read(self.name, count=count, block_ms=500))
            except (RedisError, OSError) as error:
                log.error("queue read failed", worker=self.name, error=repr(error)[:300])
                await asyncio.sleep(1)

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        """Take over what dead processes left, forget their consumers, report the depth."""
        interval = self.settings.visibility_timeout_ms / 4000
        last_cleanup = 0.0
        while not stop.is_set():
            try:
                if self.free_slots > 0:
                    await self.mail(
                        await self.queue.claim_stale(
                            self.name,
                            self.settings.visibility_timeout_ms,
                            count=min(self.free_slots, self.settings.read_batch),
                        )
                    )
                if time.monotonic() - last_cleanup > 300:
                    last_cleanup = time.monotonic()
                    idle = max(3_600_000, 10 * self.settings.visibility_timeout_ms)
                    await self.queue.remove_idle_consumers(idle, keep=self.name)
                self.metrics.queue_depth.set(await self.queue.depth())
            except (RedisError, OSError) as error:
                log.error("claim failed", worker=self.name, error=repr(error)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _finish_in_flight(self) -> None:
        self.stopping = True
        tasks = list(self._active.values())
        if not tasks:
            return
        log.info("letting turns in progress finish", turns=len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("turns cut at the shutdown deadline; left for takeover", turns=len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    async def idle(self) -> None:
        """Until every thread this process took is answered (benchmarks and tests)."""
        while self._active:
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)

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
        look: _Look | None = None  # None: read the mailbox (and the clock) again
        while True:
            if look is None:
                self._poked.discard(thread_id)
                pipe = self.redis.pipeline(transaction=False)
                self._look(pipe, thread_id)
                look = self._seen(await pipe.execute())
            ids = look.ids
            if not ids:
                if await self.locks.release_if_empty(thread_id) != 0:
                    return  # released (or lost to another worker, which then answers)
                look = None
                continue
            if self.stopping:
                await self.locks.release(thread_id)
                return
            wait = self._burst_wait(look)
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
                    look = _Look([], 0, None)

    def _look(self, pipe: Any, thread_id: str) -> None:
        """Queue on `pipe` what the next step needs: the mailbox and, with a burst window,
        Redis's clock and the newest entry queued for the thread (one round trip)."""
        pipe.zrange(Keys.mailbox(thread_id), 0, -1)
        if self.settings.burst_window_ms > 0:
            pipe.time()
            pipe.get(Keys.newest(thread_id))

    def _seen(self, results: list[Any]) -> _Look:
        """`_look`'s answers: the last three (or one) results of the pipeline."""
        if self.settings.burst_window_ms > 0:
            ids, (seconds, microseconds), newest = results[-3:]
            now_ms = int(seconds) * 1000 + int(microseconds) // 1000
            return _Look([_text(i) for i in ids], now_ms, _text(newest) if newest else None)
        return _Look([_text(i) for i in results[-1]], 0, None)

    def _burst_wait(self, look: _Look) -> float:
        """Seconds to wait before answering: the burst window after the newest message (by
        Redis's clock), or a moment for a message queued but not yet read."""
        window = self.settings.burst_window_ms
        if window <= 0:
            return 0.0
        newest_mailed = look.ids[-1]
        queued = look.newest_queued or newest_mailed
        age = look.now_ms - max(entry_millis(newest_mailed), entry_millis(queued))
        if age < window:
            return (window - age) / 1000
        unread = entry_score(queued) > entry_score(newest_mailed)
        if unread and look.now_ms - entry_millis(queued) < window + UNMAILED_GRACE_MS:
            return 0.05  # queued, not yet read by anyone: it joins this turn
        return 0.0

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
        return [_text(i) for i in (await pipe.execute())[-1]]

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
