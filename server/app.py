"""The FastAPI application: webhook, health, metrics, simulator, and the in-process workers."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agents import model_calls
from checkpointers import async_redis_saver, pooled_async_redis
from graph import SupervisorDeps, SupervisorGraph, compile_supervisor
from server.accounts import AccountRegistry, BusinessAccount
from server.admin import page_router as admin_page_router
from server.admin import router as admin_router
from server.backends import consumer_for, open_queue, scheduler_settings
from server.config import ChannelConfig
from server.handoff import Handoff, HandoffRecord, HandoffSettings, HandoffTimers
from server.health import router as health_router
from server.inbound import canned
from server.inbox import page_router as inbox_page_router
from server.inbox import router as inbox_router
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.outbox import LocalOutbox
from server.pacing import SendPacer
from server.queue import InboundQueue
from server.replies import Reply, ReplySender
from server.simulator import router as simulator_router
from server.webhook import router as webhook_router
from server.whatsapp import WhatsAppSender
from server.worker import Worker
from stores import Stores

DepsFactory = Callable[[Path | None], SupervisorDeps]


@dataclass
class Channel:
    """Everything the app and its workers share; built by `wam serve` / `wam worker` or tests."""

    config: ChannelConfig
    stores: Stores
    accounts: AccountRegistry
    deps_for: DepsFactory
    sender: WhatsAppSender
    outbox: LocalOutbox | None = None
    media: MediaStore | None = None
    transcriber: Transcriber | None = None
    metrics: Metrics = field(default_factory=Metrics)


def _size_thread_pool(config: ChannelConfig) -> None:
    """Blocking SDK calls (boto3 for Bedrock and DynamoDB) run in the loop's default executor,
    which holds min(32, cores + 4) threads: size it to the turns the process runs at once."""
    workers = min(1024, config.max_concurrent_turns + config.max_model_calls_in_flight + 8)
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wam-io")
    )


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
        graphs: dict[Path | None, SupervisorGraph] = {}
        lock = asyncio.Lock()

        async def graph_for(account: BusinessAccount) -> SupervisorGraph:
            if account.agents_dir in graphs:
                return graphs[account.agents_dir]
            async with lock:
                if account.agents_dir not in graphs:
                    deps = await asyncio.to_thread(channel.deps_for, account.agents_dir)
                    graphs[account.agents_dir] = compile_supervisor(deps, saver)
                return graphs[account.agents_dir]

        metrics = channel.metrics
        handoff = Handoff(redis, channel.stores, handoff_settings(config))
        replies = ReplySender(
            redis=redis,
            sender=channel.sender,
            stores=channel.stores,
            pacer=SendPacer(redis, metrics),
            metrics=metrics,
        )
        if workers > 0:
            _size_thread_pool(config)
            model_calls.configure(config.max_model_calls_in_flight)
        metrics.model_calls_in_flight.set_function(lambda: model_calls.in_flight)
        metrics.model_calls_waiting.set_function(lambda: model_calls.waiting)
        stop = asyncio.Event()
        slots = max(1, config.max_concurrent_turns // max(1, workers))

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
                metrics=metrics,
                settings=scheduler_settings(config, slots),
                replies=replies,
                handoff=handoff,
            )

        tasks = [
            asyncio.create_task(consumer_for(make_worker(slots), queue, config, slots).run(stop))
            for _ in range(workers)
        ]
        if workers > 0:
            shortest = min(
                config.handoff_waiting_update_seconds, config.handoff_assigned_idle_seconds
            )
            timers = HandoffTimers(
                handoff,
                [a.phone_number_id for a in channel.accounts.all()],
                canned_sender(channel.accounts, replies),
                interval=max(0.5, min(15.0, shortest / 2)),
            )
            tasks.append(asyncio.create_task(timers.run(stop)))
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
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=config.shutdown_grace_seconds + 5)
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


def create_app(channel: Channel) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_channel(channel, channel.config.workers) as shared:
            app.state.redis = shared["redis"]
            app.state.queue = shared["queue"]
            app.state.handoff = shared["handoff"]
            app.state.replies = shared["replies"]
            yield

    app = FastAPI(title="whatsapp-multiagent", lifespan=lifespan)
    app.state.config = channel.config
    app.state.redis_url = channel.config.redis_url
    app.state.stores = channel.stores
    app.state.accounts = channel.accounts
    app.state.metrics = channel.metrics
    app.state.outbox = channel.outbox
    app.include_router(health_router)
    app.include_router(webhook_router)
    app.include_router(admin_router)
    app.include_router(admin_page_router)
    if channel.config.simulator:
        app.include_router(simulator_router)
    if channel.config.inbox_enabled:
        app.include_router(inbox_page_router)
        app.include_router(inbox_router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(channel.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
