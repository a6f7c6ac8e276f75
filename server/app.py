"""The FastAPI application: webhook, health, metrics, simulator, and the in-process workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis as AsyncRedis

from checkpointers import async_redis_saver
from graph import SupervisorDeps, SupervisorGraph, compile_supervisor
from server.accounts import AccountRegistry, BusinessAccount
from server.config import ChannelConfig
from server.health import router as health_router
from server.media import MediaStore, Transcriber
from server.metrics import Metrics
from server.queue import InboundQueue
from server.simulator import router as simulator_router
from server.webhook import router as webhook_router
from server.whatsapp import LocalOutbox, WhatsAppSender
from server.worker import Worker, WorkerSettings
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


@asynccontextmanager
async def running_channel(channel: Channel, workers: int) -> AsyncIterator[dict[str, object]]:
    """Redis client, queue, checkpointer and `workers` workers, for the life of the block."""
    async with AsyncExitStack() as stack:
        redis = AsyncRedis.from_url(channel.config.redis_url)
        stack.push_async_callback(redis.aclose)
        queue = InboundQueue(redis)
        await queue.ensure_group()
        saver = await stack.enter_async_context(
            async_redis_saver(channel.config.redis_url, channel.config.session_ttl_minutes)
        )
        graphs: dict[Path | None, SupervisorGraph] = {}
        lock = asyncio.Lock()

        async def graph_for(account: BusinessAccount) -> SupervisorGraph:
            async with lock:
                if account.agents_dir not in graphs:
                    deps = await asyncio.to_thread(channel.deps_for, account.agents_dir)
                    graphs[account.agents_dir] = compile_supervisor(deps, saver)
                return graphs[account.agents_dir]

        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(
                Worker(
                    redis=redis,
                    queue=queue,
                    accounts=channel.accounts,
                    graph_for=graph_for,
                    sender=channel.sender,
                    stores=channel.stores,
                    media=channel.media,
                    transcriber=channel.transcriber,
                    metrics=channel.metrics,
                    settings=WorkerSettings(
                        visibility_timeout_ms=channel.config.visibility_timeout_ms,
                        burst_window_ms=channel.config.burst_window_ms,
                        transcribe=channel.config.transcribe,
                    ),
                ).run(stop)
            )
            for _ in range(workers)
        ]
        try:
            yield {"redis": redis, "queue": queue, "graph_for": graph_for}
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def create_app(channel: Channel) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_channel(channel, channel.config.workers) as shared:
            app.state.redis = shared["redis"]
            app.state.queue = shared["queue"]
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
    if channel.config.simulator:
        app.include_router(simulator_router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(channel.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
