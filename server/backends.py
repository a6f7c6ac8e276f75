"""The queue backends behind one interface: the Redis Stream (default) or Amazon SQS FIFO.

The webhook only enqueues (`Enqueuer`); a consumer (`Consumer`) answers bursts through
`Worker.answer`. `QUEUE_BACKEND` picks the pair; both give the same guarantees: each WhatsApp
message queued once, one turn at a time per customer thread and in order, bursts answered as one
turn, a crashed consumer's messages replayed by another and answered once, poison messages given
up on politely (and, on SQS, kept in the dead-letter queue).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from redis.asyncio import Redis

from server.config import ChannelConfig
from server.enqueue import Enqueuer
from server.queue import InboundQueue
from server.scheduler import SchedulerSettings
from server.sqs import SqsQueue
from server.sqs_consumer import ConsumerSettings, SqsConsumer
from server.sqs_turns import GroupTurns, TurnPolicy
from server.worker import Worker, is_permanent
from stores import aws_client

BACKENDS = ("redis", "sqs")
__all__ = ["BACKENDS", "Consumer", "Enqueuer", "consumer_for", "open_queue", "sqs_queue"]


class Consumer(Protocol):
    """What a worker process runs until `stop` is set (then it finishes gracefully)."""

    async def run(self, stop: asyncio.Event) -> None: ...


def sqs_queue(config: ChannelConfig, redis: Redis) -> SqsQueue:
    if not config.sqs_queue_url:
        raise ValueError("QUEUE_BACKEND=sqs needs SQS_QUEUE_URL")
    return SqsQueue(aws_client("sqs", config.aws_region), config.sqs_queue_url, redis)


async def open_queue(config: ChannelConfig, redis: Redis) -> InboundQueue | SqsQueue:
    """The configured backend's queue, ready for the webhook's enqueues."""
    if config.queue_backend not in BACKENDS:
        raise ValueError(f"QUEUE_BACKEND must be one of {', '.join(BACKENDS)}")
    if config.queue_backend == "sqs":
        return sqs_queue(config, redis)
    queue = InboundQueue(redis)
    await queue.ensure_group()
    return queue


def scheduler_settings(config: ChannelConfig, slots: int) -> SchedulerSettings:
    return SchedulerSettings(
        max_concurrent_turns=slots,
        visibility_timeout_ms=config.visibility_timeout_ms,
        burst_window_ms=config.burst_window_ms,
        shutdown_grace_s=config.shutdown_grace_seconds,
    )


def group_turns(worker: Worker, queue: SqsQueue, config: ChannelConfig) -> GroupTurns:
    """One thread's SQS messages answered as one turn through `worker`."""
    return GroupTurns(
        queue,
        answer=worker.answer,
        abandon=worker.abandon,
        is_permanent=is_permanent,
        policy=TurnPolicy(
            burst_window_ms=config.burst_window_ms, max_receives=config.sqs_max_receives
        ),
    )


def consumer_for(
    worker: Worker, queue: InboundQueue | SqsQueue, config: ChannelConfig, slots: int
) -> Consumer:
    """The Redis Stream's turn scheduler (inside `worker`), or an SQS consumer around it."""
    if isinstance(queue, InboundQueue):
        return worker
    return SqsConsumer(
        queue,
        group_turns(worker, queue, config),
        settings=ConsumerSettings(
            max_concurrent_turns=slots,
            visibility_timeout_s=max(1, config.visibility_timeout_ms // 1000),
            shutdown_grace_s=config.shutdown_grace_seconds,
        ),
        metrics=worker.metrics,
        name=worker.name,
    )
