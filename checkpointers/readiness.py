"""Checks that a Redis server can hold LangGraph checkpoints (it needs RedisJSON and RediSearch)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ResponseError

# One harmless command per module: an unknown-command error means the module is missing.
_MODULE_PROBES: dict[str, tuple[str, ...]] = {
    "RedisJSON": ("JSON.TYPE", "__wam_probe__"),
    "RediSearch": ("FT._LIST",),
}


class RedisModulesMissingError(RuntimeError):
    """The Redis server lacks a module the checkpointer needs."""


def redact_url(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _is_unknown_command(error: ResponseError) -> bool:
    message = str(error).lower()
    return "unknown command" in message or "unknown subcommand" in message


def _missing_message(url: str, missing: list[str]) -> str:
    return f"Redis at {redact_url(url)} lacks {'/'.join(missing)}; use Redis 8+ or Redis Stack"


def check_redis_modules(client: Redis, url: str) -> None:
    """Raise `RedisModulesMissingError` naming each missing module."""
    missing = []
    for module, command in _MODULE_PROBES.items():
        try:
            client.execute_command(*command)  # type: ignore[no-untyped-call]
        except ResponseError as error:
            if _is_unknown_command(error):
                missing.append(module)
    if missing:
        raise RedisModulesMissingError(_missing_message(url, missing))


async def acheck_redis_modules(client: AsyncRedis, url: str) -> None:
    """Async twin of `check_redis_modules`."""
    missing = []
    for module, command in _MODULE_PROBES.items():
        try:
            await client.execute_command(*command)  # type: ignore[no-untyped-call]
        except ResponseError as error:
            if _is_unknown_command(error):
                missing.append(module)
    if missing:
        raise RedisModulesMissingError(_missing_message(url, missing))
