"""Erasure across business accounts, on the Redis side: a person's sessions with two business
accounts (one this deployment does not list) and the channel's records about them go; another
customer's, in the same account and index, stay. No app runs here, so nothing consumes the
stream entries the test writes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from checkpointers import async_redis_saver
from server.queue import STREAM
from tests.integration.conftest import new_wa_id
from tests.integration.test_gdpr import _erase_until, _mentions, _redis_dump
from tests.integration.whatsapp import NUMBER

pytestmark = pytest.mark.integration
SECOND = "200000000000002"  # a business account this deployment does not list


async def _two_accounts(settings, wa_id: str, other: str) -> dict[str, str]:
    """Sessions of `wa_id` with two business accounts (one not configured here), and the
    records the channel keeps in Redis, beside another customer's."""
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.graph import START, MessagesState, StateGraph

    builder = StateGraph(MessagesState)
    builder.add_node("answer", lambda state: {"messages": [AIMessage("hello")]})
    builder.add_edge(START, "answer")
    async with async_redis_saver(settings.redis_url, settings.session_ttl_minutes) as saver:
        graph = builder.compile(checkpointer=saver)
        for thread in (f"{NUMBER}:{wa_id}", f"{SECOND}:{wa_id}", f"{SECOND}:{other}"):
            config = {"configurable": {"thread_id": thread}}
            await graph.ainvoke({"messages": [HumanMessage("hi")]}, config)
    redis = AsyncRedis.from_url(settings.redis_url)
    ids = {who: f"wamid.{uuid.uuid4().hex}" for who in (wa_id, other)}
    try:
        for who, message_id in ids.items():
            await redis.set(f"wam:optin:{SECOND}:{who}", 1)
            await redis.zadd(f"wam:handoff:idx:{SECOND}", {f"{SECOND}:{who}": 1.0})
            await redis.xadd(STREAM, {"message_id": message_id, "wa_id": who, "text": "hi"})
            await redis.set(f"wam:reply:{message_id}", "a cached reply")
    finally:
        await redis.aclose()
    return ids


def test_every_business_accounts_threads_are_erased(settings, stores) -> None:
    person, other = new_wa_id(), new_wa_id()
    ids = asyncio.run(_two_accounts(settings, person, other))
    report = asyncio.run(_erase_until(settings, stores, person, "dynamodb"))
    redis_counts = report["deleted"]["redis"]
    assert redis_counts["checkpoint_threads"] == 2  # the configured account and another one
    assert redis_counts["stream_entries"] == 1 and redis_counts["message_keys"] == 1
    assert redis_counts["handoff_index_entries"] == 1
    client = Redis.from_url(settings.redis_url)
    dumped = _redis_dump(client)
    assert _mentions(dumped, person) == []
    assert any(k.startswith(f"checkpoint:{SECOND}:{other}:") for k in dumped)
    assert client.exists(f"wam:optin:{SECOND}:{other}", f"wam:reply:{ids[other]}") == 2
    assert client.exists(f"wam:reply:{ids[person]}") == 0
    assert client.zscore(f"wam:handoff:idx:{SECOND}", f"{SECOND}:{other}") == 1.0
    client.close()
    # The other customer's turn: nothing of theirs is left for later tests' workers to read.
    assert asyncio.run(_erase_until(settings, stores, other, "dynamodb"))["total"] > 0
