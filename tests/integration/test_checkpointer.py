"""The Redis session store: round trip, TTL on the keys, refresh on read, missing modules."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from redis import Redis

from checkpointers import (
    EmbeddedRedis,
    RedisModulesMissingError,
    async_redis_saver,
    checkpoint_ttl,
    pooled_async_redis,
    redis_saver,
)

pytestmark = pytest.mark.integration


class CounterState(TypedDict):
    turns: Annotated[list[str], operator.add]


def _graph() -> StateGraph[CounterState]:
    builder = StateGraph(CounterState)
    builder.add_node("echo", lambda state: {"turns": [f"seen {len(state['turns'])}"]})
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder


def _thread_keys(client: Redis, thread_id: str) -> list[bytes]:
    return [key for key in client.scan_iter(match="checkpoint*") if thread_id.encode() in key]


def test_round_trip_keeps_state_and_sets_ttl_on_keys(servers) -> None:
    thread_id = f"100:{uuid.uuid4().hex}"
    config = {"configurable": {"thread_id": thread_id}}
    with redis_saver(servers.redis_url, ttl_minutes=30) as saver:
        graph = _graph().compile(checkpointer=saver)
        graph.invoke({"turns": ["hello"]}, config)
        state = graph.invoke({"turns": ["again"]}, config)
    assert state["turns"] == ["hello", "seen 1", "again", "seen 3"]

    with redis_saver(servers.redis_url, ttl_minutes=30) as saver:
        restored = _graph().compile(checkpointer=saver).get_state(config)
    assert restored.values["turns"] == state["turns"]

    client = Redis.from_url(servers.redis_url)
    keys = _thread_keys(client, thread_id)
    assert keys, "no checkpoint keys written"
    ttls = [client.ttl(key) for key in keys]
    assert all(0 < ttl <= 30 * 60 for ttl in ttls), ttls


def test_reading_a_session_refreshes_its_ttl(servers) -> None:
    thread_id = f"100:{uuid.uuid4().hex}"
    config = {"configurable": {"thread_id": thread_id}}
    client = Redis.from_url(servers.redis_url)
    with redis_saver(servers.redis_url, ttl_minutes=30) as saver:
        _graph().compile(checkpointer=saver).invoke({"turns": ["hi"]}, config)
        latest = saver.get_tuple(config)
        assert latest is not None
        latest_id = latest.config["configurable"]["checkpoint_id"].encode()
        checkpoint_key = next(
            k
            for k in _thread_keys(client, thread_id)
            if k.startswith(b"checkpoint:") and k.endswith(latest_id)
        )
        client.expire(checkpoint_key, 60)
        saver.get_tuple(config)
    assert client.ttl(checkpoint_key) > 60 * 29


async def test_async_saver_round_trip(servers) -> None:
    config = {"configurable": {"thread_id": f"100:{uuid.uuid4().hex}"}}
    async with async_redis_saver(servers.redis_url, ttl_minutes=5) as saver:
        graph = _graph().compile(checkpointer=saver)
        await graph.ainvoke({"turns": ["uno"]}, config)
        state = await graph.ainvoke({"turns": ["dos"]}, config)
    assert state["turns"] == ["uno", "seen 1", "dos", "seen 3"]


def test_server_without_modules_is_refused_with_a_clear_message(tmp_path) -> None:
    with (
        EmbeddedRedis(tmp_path, with_modules=False) as bare,
        pytest.raises(RedisModulesMissingError) as caught,
        redis_saver(bare.url, 30),
    ):
        pass
    assert str(caught.value) == (
        f"Redis at {bare.url} lacks RedisJSON/RediSearch; use Redis 8+ or Redis Stack"
    )


async def test_async_saver_refuses_server_without_modules(tmp_path) -> None:
    with (
        EmbeddedRedis(tmp_path, with_modules=False) as bare,
        pytest.raises(RedisModulesMissingError, match="lacks RedisJSON/RediSearch"),
    ):
        async with async_redis_saver(bare.url, 30):
            pass


def test_ttl_must_be_positive() -> None:
    assert checkpoint_ttl(30) == {"default_ttl": 30, "refresh_on_read": True}
    with pytest.raises(ValueError, match="positive"):
        checkpoint_ttl(0)


async def test_commands_beyond_the_pool_wait_for_a_connection_instead_of_failing(
    servers, settings
) -> None:
    """More commands in flight than connections: the default pool refuses the extra ones, the
    process's pooled client queues them."""
    import asyncio

    from redis.asyncio import Redis as AsyncRedis
    from redis.exceptions import MaxConnectionsError

    async def forty_at_once(client: AsyncRedis) -> None:
        key = f"pool-test:{uuid.uuid4().hex}"  # nothing is pushed: each waits its 0.1 s
        try:
            await asyncio.gather(*(client.blpop([key], timeout=0.1) for _ in range(40)))
        finally:
            await client.aclose()

    with pytest.raises(MaxConnectionsError):
        await forty_at_once(AsyncRedis.from_url(settings.redis_url, max_connections=5))
    await forty_at_once(pooled_async_redis(settings.redis_url, 5))
