"""The burst window: when a thread's mailbox is ready to be answered.

Messages that arrive within `burst_window_ms` of the newest one (by Redis's clock; the webhook
records the newest entry per thread, read or not) join the same turn; a message queued but not
yet read by anyone gets a moment to join it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.queue import Keys, entry_millis, entry_score

UNMAILED_GRACE_MS = 1000  # how long a turn waits for an entry queued but not yet read


def decoded(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Look:
    """A thread's mailbox (stream ids, oldest first), Redis's clock, the newest entry queued."""

    ids: list[str]
    now_ms: int
    newest_queued: str | None


def look_at(pipe: Any, thread_id: str, window_ms: int) -> None:
    """Queue on `pipe` what the next step needs: the mailbox and, with a burst window,
    Redis's clock and the newest entry queued for the thread (one round trip)."""
    pipe.zrange(Keys.mailbox(thread_id), 0, -1)
    if window_ms > 0:
        pipe.time()
        pipe.get(Keys.newest(thread_id))


def seen(results: list[Any], window_ms: int) -> Look:
    """`look_at`'s answers: the last three (or one) results of the pipeline."""
    if window_ms > 0:
        ids, (seconds, microseconds), newest = results[-3:]
        now_ms = int(seconds) * 1000 + int(microseconds) // 1000
        return Look([decoded(i) for i in ids], now_ms, decoded(newest) if newest else None)
    return Look([decoded(i) for i in results[-1]], 0, None)


def burst_wait(look: Look, window_ms: int) -> float:
    """Seconds to wait before answering: the burst window after the newest message (by
    Redis's clock), or a moment for a message queued but not yet read."""
    if window_ms <= 0:
        return 0.0
    newest_mailed = look.ids[-1]
    queued = look.newest_queued or newest_mailed
    age = look.now_ms - max(entry_millis(newest_mailed), entry_millis(queued))
    if age < window_ms:
        return (window_ms - age) / 1000
    unread = entry_score(queued) > entry_score(newest_mailed)
    if unread and look.now_ms - entry_millis(queued) < window_ms + UNMAILED_GRACE_MS:
        return 0.05  # queued, not yet read by anyone: it joins this turn
    return 0.0
