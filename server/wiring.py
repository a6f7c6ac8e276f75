"""A process's running parts wired together for the life of a block (`running_channel`): the
Redis clients, the queue, the checkpointer and graphs, the handoff, the reply sender, the turn
schedulers and the handoff timers; and `wam worker`, which runs them until a signal.

Both `wam serve` (the app's lifespan) and `wam worker` (`run_workers`) run a channel this way;
the orchestrator Lambda runs it with no schedulers and drives a worker itself.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager

from redis.asyncio import Redis

from agents import model_calls
from checkpointers import async_redis_saver, pooled_async_redis
from server.accounts import AccountRegistry
from server.backends import consumer_for, open_queue, scheduler_settings
from server.channel import Channel
from server.config import ChannelConfig
from server.graphs import SupervisorGraphs
from server.handoff import Handoff, HandoffRecord, HandoffSettings, HandoffTimers
from server.inbound import GraphFor, canned
from server.pacing import SendPacer
from server.queue import InboundQueue
from server.replies import Reply, ReplySender
from server.sqs import SqsQueue
from server.worker import Worker


@asynccontextmanager
async def running_channel(channel: Channel, workers: int) -> AsyncIterator[dict[str, object]]:
    """Redis client, queue, checkpointer and `workers` schedulers, for the life of the block.

    On the way out the schedulers stop reading and let turns in progress finish, up to
    `shutdown_grace_seconds`; what is left is claimed by other processes.
    """
    config = channel.config
    async with AsyncExitStack() as stack:
        # Every turn in flight may hold a connection of each client at once, and the webhook,
        # the claim loop and the timers need some more: a command beyond waits, never fails.
        connections = config.max_concurrent_turns + 64
        redis = pooled_async_redis(config.redis_url, connections, health_check_interval=10)
        stack.push_async_callback(redis.aclose)
        queue = await open_queue(config, redis)
        stream = queue if isinstance(queue, InboundQueue) else InboundQueue(redis)
        saver = await stack.enter_async_context(
            async_redis_saver(config.redis_url, config.session_ttl_minutes, connections)
        )
        graph_for = SupervisorGraphs(channel.deps_for, saver).graph_for
        handoff = Handoff(redis, channel.stores, handoff_settings(config))
        replies = ReplySender(
            redis=redis,
            sender=channel.sender,
            stores=channel.stores,
            pacer=SendPacer(redis, channel.metrics),
            metrics=channel.metrics,
        )
        _limit_model_calls(channel, workers)
        make_worker = _worker_factory(channel, redis, stream, graph_for, replies, handoff)
        stop = asyncio.Event()
        tasks = _start_schedulers(make_worker, queue, config, workers, stop)
        if workers > 0:
            tasks.append(asyncio.create_task(_handoff_timers(channel, handoff, replies).run(stop)))
        try:
            yield {
                "redis": redis,
                "queue": queue,
                "graph_for": graph_for,
                "make_worker": make_worker,
                "handoff": handoff,
                "replies": replies,
            }
        finally:
            stop.set()
            await _wind_down(tasks, config.shutdown_grace_seconds)


def _size_thread_pool(config: ChannelConfig) -> None:
    """Blocking SDK calls (boto3 for Bedrock and DynamoDB) run in the loop's default executor,
    which holds min(32, cores + 4) threads: size it to the turns the process runs at once."""
    workers = min(1024, config.max_concurrent_turns + config.max_model_calls_in_flight + 8)
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wam-io")
    )


def _limit_model_calls(channel: Channel, workers: int) -> None:
    """With schedulers: the thread pool and the model calls in flight sized to the config; the
    metrics read the model calls in flight and waiting either way."""
    if workers > 0:
        _size_thread_pool(channel.config)
        model_calls.configure(channel.config.max_model_calls_in_flight)
    channel.metrics.model_calls_in_flight.set_function(lambda: model_calls.in_flight)
    channel.metrics.model_calls_waiting.set_function(lambda: model_calls.waiting)


def _worker_factory(
    channel: Channel,
    redis: Redis,
    stream: InboundQueue,
    graph_for: GraphFor,
    replies: ReplySender,
    handoff: Handoff,
) -> Callable[[int], Worker]:
    """A worker running up to `slots` turns at once, sharing the channel's running parts."""
    config = channel.config

    def make_worker(slots: int) -> Worker:
        return Worker(
            redis=redis,
            queue=stream,
            accounts=channel.accounts,
            graph_for=graph_for,
            sender=channel.sender,
            stores=channel.stores,
            media=channel.media,
            transcriber=channel.transcriber,
            transcribe=config.transcribe,
            metrics=channel.metrics,
            settings=scheduler_settings(config, slots),
            replies=replies,
            handoff=handoff,
        )

    return make_worker


def _start_schedulers(
    make_worker: Callable[[int], Worker],
    queue: InboundQueue | SqsQueue,
    config: ChannelConfig,
    workers: int,
    stop: asyncio.Event,
) -> list[asyncio.Task[None]]:
    """`workers` schedulers sharing the process's `max_concurrent_turns`, running until `stop`."""
    slots = max(1, config.max_concurrent_turns // max(1, workers))
    return [
        asyncio.create_task(consumer_for(make_worker(slots), queue, config, slots).run(stop))
        for _ in range(workers)
    ]


def _handoff_timers(channel: Channel, handoff: Handoff, replies: ReplySender) -> HandoffTimers:
    """The timers of every account's handoffs, ticking at least twice per shortest delay."""
    config = channel.config
    shortest = min(config.handoff_waiting_update_seconds, config.handoff_assigned_idle_seconds)
    return HandoffTimers(
        handoff,
        [a.phone_number_id for a in channel.accounts.all()],
        canned_sender(channel.accounts, replies),
        interval=max(0.5, min(15.0, shortest / 2)),
    )


async def _wind_down(tasks: list[asyncio.Task[None]], grace_seconds: float) -> None:
    """Wait for the stopped tasks to finish their turns; cancel what is left after the grace."""
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds + 5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def handoff_settings(config: ChannelConfig) -> HandoffSettings:
    return HandoffSettings(
        webhook_url=config.handoff_webhook_url,
        webhook_secret=config.handoff_webhook_secret or config.app_secret,
        waiting_update_seconds=config.handoff_waiting_update_seconds,
        assigned_idle_seconds=config.handoff_assigned_idle_seconds,
    )


def canned_sender(
    accounts: AccountRegistry, replies: ReplySender
) -> Callable[[HandoffRecord, str], Awaitable[None]]:
    """The handoff timers' messages (`waiting_update`, `back_to_bot`), each sent once per thread
    and state: keyed on the state's start."""

    async def send(record: HandoffRecord, name: str) -> None:
        account = accounts.get(record.phone_number_id)
        if account is None:
            return
        text = canned(name, record.language)
        key = f"handoff.{name}.{record.thread_id}.{int(record.since)}"
        await replies.send_keyed(account, record.wa_id, key, Reply(text))

    return send


async def run_workers(channel: Channel, workers: int) -> None:
    """`wam worker`: schedulers only, until SIGTERM or SIGINT; then a graceful stop (reading
    stops, turns in progress finish within `shutdown_grace_seconds`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with running_channel(channel, workers):
            await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
