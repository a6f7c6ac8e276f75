"""The FastAPI application: built from a running stack, owning its Redis client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis as AsyncRedis

from server.health import router as health_router
from stores import Stores


def create_app(*, redis_url: str, stores: Stores) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = AsyncRedis.from_url(redis_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()

    app = FastAPI(title="whatsapp-multiagent", lifespan=lifespan)
    app.state.redis_url = redis_url
    app.state.stores = stores
    app.include_router(health_router)
    return app
