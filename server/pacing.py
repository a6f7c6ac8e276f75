"""Outbound pacing per business number: a token bucket in Redis that every process shares.

Meta caps the messages a business number sends per second (80 by default, up to 1,000 on higher
tiers). Each send reserves a token from `wam:pace:<phone_number_id>`; the bucket refills at the
account's rate and holds at most one second of it. A send that finds the bucket empty reserves the
next free slot (the balance goes negative) and waits until then: one round trip per send, first
come first served, and several processes on several machines together stay under the rate because
the script runs on Redis's clock.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from server.metrics import Metrics
from server.queue import Keys

# KEYS[1] bucket; ARGV[1] rate per second, ARGV[2] capacity. Returns the microseconds to wait
# before the reserved send may go (0: at once).
_RESERVE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now_us
tokens = math.min(capacity, tokens + (now_us - at) * rate / 1000000) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now_us))
local wait = 0
if tokens < 0 then wait = math.ceil(-tokens * 1000000 / rate) end
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate + wait / 1000) + 1000)
return wait
"""


class SendPacer:
    """`await pacer.take(phone_number_id, per_second)` returns when the send may go."""

    def __init__(self, redis: Redis, metrics: Metrics | None = None) -> None:
        self._reserve = redis.register_script(_RESERVE)
        self._metrics = metrics

    async def take(self, phone_number_id: str, per_second: float) -> float:
        """Reserve a send slot and wait for it; the seconds waited."""
        capacity = max(1.0, float(per_second))
        wait_us = int(
            await self._reserve(keys=[Keys.pace(phone_number_id)], args=[per_second, capacity])
        )
        if wait_us <= 0:
            return 0.0
        if self._metrics is not None:
            self._metrics.sends_throttled.inc()
        await asyncio.sleep(wait_us / 1_000_000)
        return wait_us / 1_000_000
