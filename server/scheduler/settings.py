"""The turn scheduler's settings, and the callbacks it runs a turn with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.queue import InboundItem


@dataclass
class SchedulerSettings:
    max_concurrent_turns: int = 256
    visibility_timeout_ms: int = 60_000
    lock_ttl_ms: int | None = None  # default: the visibility timeout (refreshed while alive)
    max_deliveries: int = 5
    burst_window_ms: int = 800
    retry_backoff_s: float = 1.0
    shutdown_grace_s: float = 25.0
    read_batch: int = 64

    @property
    def lock_ms(self) -> int:
        return self.lock_ttl_ms or self.visibility_timeout_ms


AnswerFn = Callable[[list[InboundItem]], Awaitable[None]]
AbandonFn = Callable[[list[InboundItem], BaseException], Awaitable[None]]
PermanentFn = Callable[[BaseException], bool]
