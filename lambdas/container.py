"""What a Lambda container builds once and keeps for its later invocations.

One event loop per container (clients such as Redis's asyncio client belong to the loop that
created them, so every invocation runs on the same one), the settings with their Secrets Manager
values, and whatever each handler caches through `once`. `reset()` forgets all of it (tests that
change the environment between "containers").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from app.logging import configure_logging
from app.secrets import resolve_secrets
from app.settings import Settings, load_settings

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_cache: dict[str, Any] = {}
_cleanups: list[Callable[[], Awaitable[None]]] = []


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on the container's event loop (created on first use, kept between invocations)."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


async def once(name: str, build: Callable[[], Awaitable[T]]) -> T:
    """`build()`'s result, built on the first invocation of this container only."""
    if name not in _cache:
        _cache[name] = await build()
    value: T = _cache[name]
    return value


def on_reset(cleanup: Callable[[], Awaitable[None]]) -> None:
    _cleanups.append(cleanup)


def settings() -> Settings:
    """The settings of this container, WhatsApp secrets read from Secrets Manager once."""
    if "settings" not in _cache:
        loaded = load_settings()
        configure_logging(loaded.log_level, loaded.log_format)
        _cache["settings"] = resolve_secrets(loaded)
    value: Settings = _cache["settings"]
    return value


def reset() -> None:
    """Forget everything this container built (the next invocation is a cold start)."""
    global _loop
    if _loop is not None and not _loop.is_closed():
        for cleanup in reversed(_cleanups):
            _loop.run_until_complete(cleanup())
        _loop.close()
    _cleanups.clear()
    _cache.clear()
    _loop = None
