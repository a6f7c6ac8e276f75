"""How many model calls one process runs at once.

Bedrock's quotas are per account and per model, not per customer: a process answering hundreds of
customers must not fire hundreds of calls at once, and must not fail the ones over the limit
either. Every agent's model call takes a slot from the process-wide `model_calls` limiter; calls
over the limit wait in line (first come, first served) instead of failing. `wam serve` sets the
limit from `MAX_MODEL_CALLS_IN_FLIGHT`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary


class ModelCallLimiter:
    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self.in_flight = 0
        self.waiting = 0
        self._semaphores: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    def configure(self, limit: int) -> None:
        """Set the limit (before the first call of an event loop)."""
        if limit < 1:
            raise ValueError(f"the model call limit must be at least 1, got {limit}")
        self.limit = limit
        self._semaphores.clear()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        semaphore = self._semaphore()
        self.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            semaphore.release()


model_calls = ModelCallLimiter()
