"""Factories for LangGraph's Redis checkpointers with the session TTL of the settings.

`langgraph-checkpoint-redis` takes its TTL in *minutes*; `refresh_on_read` makes an active session
live on, so a session ends after `SESSION_TTL_MINUTES` idle minutes. `setup()` creates the search
indexes once at start-up, after the module check has explained a server that cannot hold them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from langgraph.checkpoint.redis import AsyncRedisSaver, RedisSaver
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from checkpointers.clients import pooled_async_redis
from checkpointers.readiness import acheck_redis_modules, check_redis_modules


def checkpoint_ttl(ttl_minutes: int) -> dict[str, Any]:
    """The saver's TTL config: expire after `ttl_minutes` idle minutes, refreshed on every read."""
    if ttl_minutes <= 0:
        raise ValueError(f"ttl_minutes must be positive, got {ttl_minutes}")
    return {"default_ttl": ttl_minutes, "refresh_on_read": True}


@contextmanager
def redis_saver(redis_url: str, ttl_minutes: int) -> Iterator[RedisSaver]:
    """A ready `RedisSaver` (modules checked, indexes created) that is closed on exit."""
    client = Redis.from_url(redis_url)
    try:
        check_redis_modules(client, redis_url)
        saver = RedisSaver(redis_client=client, ttl=checkpoint_ttl(ttl_minutes))
        saver.setup()
        yield saver
    finally:
        client.close()


@asynccontextmanager
async def async_redis_saver(
    redis_url: str, ttl_minutes: int, max_connections: int | None = None
) -> AsyncIterator[AsyncRedisSaver]:
    """A ready `AsyncRedisSaver` (modules checked, indexes created) that is closed on exit;
    with `max_connections`, its client queues commands beyond that many instead of failing."""
    client = (
        pooled_async_redis(redis_url, max_connections)
        if max_connections
        else AsyncRedis.from_url(redis_url)
    )
    try:
        await acheck_redis_modules(client, redis_url)
        saver = AsyncRedisSaver(redis_client=client, ttl=checkpoint_ttl(ttl_minutes))
        await saver.asetup()
        yield saver
    finally:
        await client.aclose()
