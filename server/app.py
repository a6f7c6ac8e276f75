"""The FastAPI application: webhook, health, metrics, admin, inbox and simulator routes, with the
channel's running parts (`server.wiring`) for the life of the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.admin import page_router as admin_page_router
from server.admin import router as admin_router
from server.channel import Channel
from server.health import router as health_router
from server.inbox import page_router as inbox_page_router
from server.inbox import router as inbox_router
from server.simulator import router as simulator_router
from server.webhook import router as webhook_router
from server.wiring import running_channel

__all__ = ["Channel", "create_app", "running_channel"]


def create_app(channel: Channel) -> FastAPI:
    """The app serving `channel`; its lifespan runs the channel (`config.workers` schedulers)."""

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
