"""`wam worker` on SQS FIFO: long-poll, answer each customer thread's messages as one turn, delete.

Many threads at once (up to `max_concurrent_turns`, each in its own task); when every slot is taken
it stops receiving (backpressure) and the messages wait in SQS for this or another process. SQS
itself keeps one turn at a time per thread, in order, across processes (message groups). While a
turn runs its messages are kept hidden (visibility extended every third of the timeout); a process
that dies loses them to another after the visibility timeout, and the replay is answered once (the
reply cache and the sent record in Redis). Graceful stop: receiving stops, turns in progress finish
within `shutdown_grace_s`, and the messages of the turns cut short are handed back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from server.metrics import Metrics
from server.sqs import MAX_BATCH, SqsMessage, SqsQueue
from server.sqs_turns import GroupTurns

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ConsumerSettings:
    max_concurrent_turns: int = 256
    visibility_timeout_s: int = 60
    wait_seconds: int = 1
    shutdown_grace_s: float = 25.0


class SqsConsumer:
    def __init__(
        self,
        queue: SqsQueue,
        turns: GroupTurns,
        *,
        settings: ConsumerSettings | None = None,
        metrics: Metrics | None = None,
        name: str | None = None,
    ) -> None:
        self.queue = queue
        self.turns = turns
        self.settings = settings or ConsumerSettings()
        self.metrics = metrics or Metrics()
        self.name = name or f"sqs-worker-{uuid.uuid4().hex[:8]}"
        self._active: dict[asyncio.Task[None], list[SqsMessage]] = {}
        self._slot_freed = asyncio.Event()

    @property
    def free_slots(self) -> int:
        return self.settings.max_concurrent_turns - len(self._active)

    async def run(self, stop: asyncio.Event) -> None:
        policy = self.turns.policy
        with contextlib.suppress(BotoCoreError, ClientError, OSError, ValueError):
            receives = await self.queue.max_receives(policy.max_receives)
            self.turns.policy = replace(policy, max_receives=receives)
        log.info("sqs consumer started", worker=self.name, queue=self.queue.queue_url)
        keeper = asyncio.create_task(self._keep_hidden())
        try:
            await self._receive_loop(stop)
        finally:
            await self._finish_in_flight()
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            log.info("sqs consumer stopped", worker=self.name)

    async def idle(self) -> None:
        """Until every turn this consumer took is finished (tests and benchmarks)."""
        while self._active:
            await asyncio.gather(*list(self._active), return_exceptions=True)

    async def _receive_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.free_slots <= 0:
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), 0.5)
                continue
            try:
                received = await self.queue.receive(
                    min(self.free_slots, MAX_BATCH), self.settings.wait_seconds
                )
            except (BotoCoreError, ClientError, OSError) as error:
                log.error("sqs receive failed", worker=self.name, error=repr(error)[:300])
                await asyncio.sleep(1)
                continue
            self.start(received)

    def start(self, received: list[SqsMessage]) -> None:
        """One task per message group (customer thread) in `received`."""
        groups: dict[str, list[SqsMessage]] = defaultdict(list)
        for message in received:
            groups[message.group].append(message)
        for messages in groups.values():
            task = asyncio.create_task(self._serve(messages))
            self._active[task] = messages
            task.add_done_callback(self._done)
        self.metrics.turns_in_flight.set(len(self._active))

    def _done(self, task: asyncio.Task[None]) -> None:
        self._active.pop(task, None)
        self._slot_freed.set()
        self.metrics.turns_in_flight.set(len(self._active))

    async def _serve(self, messages: list[SqsMessage]) -> None:
        try:
            back = await self.turns.run(messages)
            receipts = {m.receipt for m in back}
            await self.queue.delete([m for m in messages if m.receipt not in receipts])
        except asyncio.CancelledError:
            raise
        except Exception as error:  # left hidden: SQS hands them out again after the timeout
            log.error("turn left for redelivery", worker=self.name, error=repr(error)[:300])

    async def _keep_hidden(self) -> None:
        """Extend the visibility of the messages of the turns in progress; report the depth."""
        timeout = self.settings.visibility_timeout_s
        while True:
            await asyncio.sleep(timeout / 3)
            held = [m for messages in list(self._active.values()) for m in messages]
            try:
                if held:
                    await self.queue.set_visibility(held, timeout)
                self.metrics.queue_depth.set(await self.queue.depth())
            except (BotoCoreError, ClientError, OSError) as error:
                log.warning("visibility not extended", error=repr(error)[:200])

    async def _finish_in_flight(self) -> None:
        if not self._active:
            return
        log.info("letting turns in progress finish", turns=len(self._active))
        _, pending = await asyncio.wait(list(self._active), timeout=self.settings.shutdown_grace_s)
        cut = [m for task in pending for m in self._active.get(task, [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if cut:
            log.warning("turns cut at the shutdown deadline; handed back", messages=len(cut))
            with contextlib.suppress(Exception):
                await self.queue.set_visibility(cut, 0)
