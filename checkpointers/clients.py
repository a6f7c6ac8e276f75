"""Async Redis clients for a process that runs hundreds of turns at once.

redis-py's default pool allows 100 connections and raises `MaxConnectionsError` ("Too many
connections") at the 101st command in flight: with `MAX_CONCURRENT_TURNS` at 256, a burst of
customers would fail turns on a client-side limit while Redis is idle. These clients use a
blocking pool sized to the concurrency: a command over the limit waits for a free connection
(up to `wait_s`) instead of failing.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis

POOL_WAIT_S = 20.0


def pooled_async_redis(
    redis_url: str, max_connections: int, *, wait_s: float = POOL_WAIT_S, **options: Any
) -> AsyncRedis:
    """An async client whose pool holds up to `max_connections` and queues commands beyond."""
    if max_connections < 1:
        raise ValueError(f"max_connections must be at least 1, got {max_connections}")
    pool = BlockingConnectionPool.from_url(
        redis_url, max_connections=max_connections, timeout=wait_s, **options
    )
    return AsyncRedis.from_pool(pool)  # the client owns the pool: aclose() closes both
