"""One customer's turn from SQS messages: gather the burst, answer, and say what must come back.

Shared by the `wam worker` consumer (server/sqs_consumer.py) and the Lambda orchestrator
(lambdas/orchestrator.py). `GroupTurns.run` takes the messages of one message group (one customer
thread) and returns those that must be handed out again; it has already set their visibility:

- Bursts: SQS hands out none of a thread's later messages while earlier ones are in flight, so a
  consumer holding a thread's first message cannot simply read the rest. It waits until the thread
  has been quiet for `burst_window_ms` (the webhook records each thread's newest message in Redis,
  by Redis's clock); if a newer message than those held was queued meanwhile, it hands its own back
  at once (visibility 0) and the next receive returns them together, in order. A thread is handed
  back at most once for its burst, so a customer who keeps writing is still answered.
- Failures: a failed turn comes back after a backoff (the message's visibility), and after
  `max_receives` receives (the queue's redrive policy) SQS moves it to the dead-letter queue; on
  that last receive the customer is told a person will follow up. Input that can never succeed is
  answered that way at once and deleted. A message whose body is not a queued item is handed back
  at once, so it reaches the dead-letter queue within `max_receives` receives.
- Replays (a consumer killed mid-turn, a visibility that lapsed): the reply cache and the sent
  record in Redis keep the model from running twice and the customer from getting two replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from server.queue import InboundItem
from server.sqs import SqsMessage, SqsQueue

log = structlog.get_logger(__name__)

AnswerFn = Callable[[list[InboundItem]], Awaitable[None]]
AbandonFn = Callable[[list[InboundItem], BaseException], Awaitable[None]]
PermanentFn = Callable[[BaseException], bool]
MAX_VISIBILITY_S = 12 * 3600  # SQS's limit


@dataclass(frozen=True)
class TurnPolicy:
    burst_window_ms: int = 800
    max_receives: int = 5
    retry_backoff_s: float = 1.0
    max_burst_wait_s: float = 20.0


class GroupTurns:
    def __init__(
        self,
        queue: SqsQueue,
        *,
        answer: AnswerFn,
        abandon: AbandonFn,
        is_permanent: PermanentFn = lambda error: False,
        policy: TurnPolicy | None = None,
    ) -> None:
        self.queue = queue
        self.answer = answer
        self.abandon = abandon
        self.is_permanent = is_permanent
        self.policy = policy or TurnPolicy()

    async def run(self, messages: list[SqsMessage]) -> list[SqsMessage]:
        """Answer one thread's messages; the ones to hand out again (visibility already set)."""
        malformed = [m for m in messages if m.item is None]
        if malformed:
            log.error("malformed queue message; handed back for the DLQ", count=len(malformed))
            await self.queue.set_visibility(malformed, 0)
        held = [m for m in messages if m.item is not None]
        if not held:
            return malformed
        items = [m.item for m in held if m.item is not None]
        if not await self._burst_complete(held, items):
            log.info("burst still gathering; handed back to be read together", held=len(held))
            await self.queue.set_visibility(held, 0)
            return malformed + held
        return malformed + await self._answer(held, items)

    async def _burst_complete(self, held: list[SqsMessage], items: list[InboundItem]) -> bool:
        """Wait for the thread to be quiet; False when newer messages wait behind these."""
        window = self.policy.burst_window_ms
        if window <= 0:
            return True
        thread = items[-1].thread_id
        ids = {item.message_id for item in items}
        deadline = asyncio.get_running_loop().time() + self.policy.max_burst_wait_s
        while True:
            now_ms, newest = await self.queue.newest(thread)
            if newest is None:
                return True
            quiet_in = (window - (now_ms - newest.millis)) / 1000
            if quiet_in > 0 and asyncio.get_running_loop().time() + quiet_in < deadline:
                await asyncio.sleep(quiet_in)
                continue
            if newest.message_id in ids:
                return True
            receives = max(m.receives for m in held)
            return not (receives <= 2 and receives < self.policy.max_receives - 1)

    async def _answer(self, held: list[SqsMessage], items: list[InboundItem]) -> list[SqsMessage]:
        try:
            await self.answer(items)
            return []
        except Exception as error:
            receives = max(m.receives for m in held)
            if self.is_permanent(error):
                log.error("input can never succeed; answered once", error=repr(error)[:200])
                await self.abandon(items, error)
                return []
            if receives >= self.policy.max_receives:
                log.error("turn failed on its last receive; to the DLQ", error=repr(error)[:200])
                await self.abandon(items, error)
                await self.queue.set_visibility(held, 0)
                return held
            backoff = self.policy.retry_backoff_s * 2 ** (receives - 1)
            log.warning("turn failed; retried", receives=receives, error=repr(error)[:200])
            await self.queue.set_visibility(held, min(MAX_VISIBILITY_S, round(backoff)))
            return held
