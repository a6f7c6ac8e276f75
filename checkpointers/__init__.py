"""Conversation state across turns: the Redis checkpointer and the embedded Redis."""

from checkpointers.clients import pooled_async_redis
from checkpointers.embedded import (
    ChildProcess,
    EmbeddedRedis,
    EmbeddedServerError,
    free_loopback_port,
)
from checkpointers.readiness import (
    RedisModulesMissingError,
    acheck_redis_modules,
    check_redis_modules,
    redact_url,
)
from checkpointers.saver import async_redis_saver, checkpoint_ttl, redis_saver

__all__ = [
    "ChildProcess",
    "EmbeddedRedis",
    "EmbeddedServerError",
    "RedisModulesMissingError",
    "acheck_redis_modules",
    "async_redis_saver",
    "check_redis_modules",
    "checkpoint_ttl",
    "free_loopback_port",
    "pooled_async_redis",
    "redact_url",
    "redis_saver",
]
