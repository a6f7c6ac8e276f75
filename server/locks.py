"""Per-thread locks in Redis: whoever holds a customer thread's lock answers its mailbox.

A lock is a key with its holder's name and a TTL; the holder refreshes every lock it holds in one
pipeline every third of the TTL, so a live process keeps its threads and a dead one loses them
after one TTL. It is released only when the thread's mailbox is empty (one Lua script), so an
entry mailed meanwhile is never left without someone to answer it.
"""

from __future__ import annotations

import asyncio

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.queue import Keys

log = structlog.get_logger(__name__)

_RELEASE_IF_EMPTY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class ThreadLocks:
    def __init__(self, redis: Redis, owner: str, ttl_ms: int) -> None:
        self.redis = redis
        self.owner = owner
        self.ttl_ms = ttl_ms
        self.held: set[str] = set()
        self._release_if_empty = redis.register_script(_RELEASE_IF_EMPTY)
        self._release = redis.register_script(_RELEASE)
        self._refresh = redis.register_script(_REFRESH)

    async def acquire(self, thread_id: str) -> bool:
        taken = bool(
            await self.redis.set(Keys.lock(thread_id), self.owner, nx=True, px=self.ttl_ms)
        )
        if taken:
            self.held.add(thread_id)
        return taken

    async def release(self, thread_id: str) -> None:
        self.held.discard(thread_id)
        await self._release(keys=[Keys.lock(thread_id)], args=[self.owner])

    async def release_if_empty(self, thread_id: str) -> int:
        """1: released; 0: the mailbox has entries (keep going); -1: not ours any more."""
        result = int(
            await self._release_if_empty(
                keys=[Keys.lock(thread_id), Keys.mailbox(thread_id)], args=[self.owner]
            )
        )
        if result != 0:
            self.held.discard(thread_id)
        return result

    async def keep(self) -> None:
        """Refresh every held lock, forever (run it as a task)."""
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            held = list(self.held)
            if not held:
                continue
            try:
                pipe = self.redis.pipeline(transaction=False)
                for thread_id in held:
                    await self._refresh(
                        keys=[Keys.lock(thread_id)], args=[self.owner, self.ttl_ms], client=pipe
                    )
                results = await pipe.execute()
            except (RedisError, OSError) as error:
                log.warning("lock refresh failed", error=repr(error)[:200])
                continue
            for thread_id, kept in zip(held, results, strict=True):
                if not kept and thread_id in self.held:
                    log.warning("thread lock lost; another worker may take over", thread=thread_id)
