"""A worker: the turn scheduler wired to the handling of a burst and the sending of its reply.

`TurnScheduler` (server/scheduler/) decides which thread runs when; `InboundHandler`
(server/inbound.py) decides what a burst of messages gets; `ReplySender` (server/replies.py)
sends it exactly once at the number's pace. This module only connects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from botocore.exceptions import ClientError, ParamValidationError
from pydantic import ValidationError
from redis.asyncio import Redis

from server.accounts import AccountRegistry
from server.handoff import Handoff
from server.inbound import Burst, GraphFor, InboundHandler, failed_reply
from server.masking import mask_phone
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.pacing import SendPacer
from server.queue import InboundItem, InboundQueue
from server.replies import ReplySender
from server.scheduler import SchedulerSettings, TurnScheduler
from server.whatsapp import WhatsAppSender
from stores import Stores

log = structlog.get_logger(__name__)

PERMANENT_AWS_CODES = frozenset({"ValidationException", "SerializationException"})


def is_permanent(error: BaseException) -> bool:
    """Failures that the same input can never get past: answered once, not retried."""
    if isinstance(error, ParamValidationError | ValidationError | UnicodeError):
        return True
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in PERMANENT_AWS_CODES
    return False


class Worker:
    def __init__(
        self,
        *,
        redis: Redis,
        queue: InboundQueue,
        accounts: AccountRegistry,
        graph_for: GraphFor,
        sender: WhatsAppSender,
        stores: Stores,
        media: MediaStore | None = None,
        transcriber: Transcriber | None = None,
        transcribe: bool = False,
        metrics: Metrics | None = None,
        settings: SchedulerSettings | None = None,
        name: str | None = None,
        replies: ReplySender | None = None,
        handoff: Handoff | None = None,
    ) -> None:
        self.accounts = accounts
        self.metrics = metrics or Metrics()
        self.handoff = handoff
        self.handler = InboundHandler(
            redis=redis,
            stores=stores,
            sender=sender,
            graph_for=graph_for,
            metrics=self.metrics,
            media=media,
            transcriber=transcriber,
            transcribe=transcribe,
            handoff=handoff,
        )
        self.replies = replies or ReplySender(
            redis=redis,
            sender=sender,
            stores=stores,
            pacer=SendPacer(redis, self.metrics),
            metrics=self.metrics,
        )
        self.scheduler = TurnScheduler(
            redis=redis,
            queue=queue,
            answer=self.answer,
            abandon=self.abandon,
            is_permanent=is_permanent,
            metrics=self.metrics,
            settings=settings,
            name=name,
        )

    @property
    def name(self) -> str:
        return self.scheduler.name

    async def run(self, stop: asyncio.Event) -> None:
        await self.scheduler.run(stop)

    def _burst(self, items: list[InboundItem]) -> Burst | None:
        account = self.accounts.get(items[-1].phone_number_id)
        if account is None:
            log.warning(
                "no business account owns this number; not answered",
                phone_number_id=items[-1].phone_number_id,
            )
            return None
        return Burst(account, items)

    async def answer(self, items: list[InboundItem]) -> None:
        """One turn: handle the burst, send its reply once."""
        last = items[-1]
        with structlog.contextvars.bound_contextvars(
            message_id=last.message_id[:120], user=mask_phone(last.wa_id), worker=self.name
        ):
            burst = self._burst(items)
            if burst is None:
                return
            started = time.perf_counter()
            reply = await self.handler.handle(burst)
            if reply is None or not reply.text.strip():
                return
            await self.replies.send_once(burst.account, last, reply)
            await self.handler.prune_checkpoints(burst)
            self.metrics.turn_seconds.labels(agent=reply.agent_id or "none").observe(
                time.perf_counter() - started
            )

    async def abandon(self, items: list[InboundItem], error: BaseException) -> None:
        """Give up on a burst politely: the customer hears that a person will follow up."""
        burst = self._burst(items)
        if burst is not None:
            with contextlib.suppress(Exception):
                await self.replies.send_once(burst.account, items[-1], failed_reply(burst))
            if self.handoff is not None:  # a person takes over what the bot cannot answer
                with contextlib.suppress(Exception):
                    await self.handoff.escalate(
                        burst.account.phone_number_id,
                        items[-1].wa_id,
                        "the bot failed to answer",
                        burst.language,
                    )
        log.error("turn abandoned", message_id=items[-1].message_id, error=repr(error)[:200])
