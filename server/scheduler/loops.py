"""`TurnScheduler`: the process-level loops around the threads: reading the stream while slots are
free (backpressure otherwise), claiming what dead processes left, and the graceful stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from redis.exceptions import RedisError

from server.scheduler.threads import ThreadMailboxes

log = structlog.get_logger(__name__)


class TurnScheduler(ThreadMailboxes):
    """Many customers at once, one turn at a time per customer (see `server.scheduler`)."""

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
