"""The `handoff-timers` Lambda, invoked as EventBridge's schedule invokes it: a customer waiting
for a person too long gets one update however often (or however concurrently) the pass runs, and
a thread a person left idle goes back to the bot. The access token comes from moto's Secrets
Manager, the handoff state from the embedded Redis, the log from moto's DynamoDB; the messages
reach the Graph API stub."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from app.settings import Settings
from lambdas import container, handoff_timers
from server.handoff import HandoffRecord, HandoffStore
from server.inbound import canned
from stores import Stores, aws_client
from stubs.graph_api import sent_to, text_of
from tests.integration.conftest import new_wa_id

pytestmark = pytest.mark.integration

SCHEDULED = {
    "version": "0",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "time": "2025-01-01T12:00:00Z",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/handoff-timers"],
    "detail": {},
}


@dataclass
class Env:
    number: str
    token: str
    redis_url: str


@pytest.fixture
def timers_env(
    settings: Settings, servers: Any, graph_api: tuple[Any, str], tmp_path: Path
) -> Iterator[Env]:
    """A container configured as the CDK app configures the function, on a business number of its
    own (no other test's threads in its index)."""
    stub, url = graph_api
    token = f"token-{uuid.uuid4().hex}"
    stub.state.tokens.add(f"Bearer {token}")
    number = str(10**14 + uuid.uuid4().int % 10**13)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", servers.aws.url)
        secrets = aws_client("secretsmanager", "us-east-1")
        arn = secrets.create_secret(Name=f"wa-token-{tmp_path.name}", SecretString=token)["ARN"]
        for name, value in {
            "REDIS_URL": settings.redis_url,
            "TABLE_PREFIX": settings.table_prefix,
            "WHATSAPP_ACCESS_TOKEN_ARN": arn,
            "WHATSAPP_API_BASE_URL": url,
            "WHATSAPP_PHONE_NUMBER_ID": number,
            "DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
        }.items():
            patch.setenv(name, value)
        patch.delenv("WHATSAPP_ACCESS_TOKEN", raising=False)
        container.reset()
        try:
            yield Env(number, token, str(settings.redis_url))
        finally:
            container.reset()


def put(env: Env, wa_id: str, state: str, *, since_s: float, idle_s: float) -> str:
    """A thread `state` for `since_s` seconds, last touched `idle_s` seconds ago."""
    now = time.time()
    record = HandoffRecord(
        thread_id=f"{env.number}:{wa_id}",
        phone_number_id=env.number,
        wa_id=wa_id,
        state=state,  # type: ignore[arg-type]
        agent="Marta" if state == "assigned" else "",
        since=now - since_s,
        updated=now - idle_s,
    )

    async def write() -> None:
        redis = Redis.from_url(env.redis_url)
        try:
            await HandoffStore(redis).put(record)
        finally:
            await redis.aclose()

    asyncio.run(write())
    return record.thread_id


def state_of(env: Env, thread_id: str) -> HandoffRecord:
    async def read() -> HandoffRecord | None:
        redis = Redis.from_url(env.redis_url)
        try:
            return await HandoffStore(redis).get(thread_id)
        finally:
            await redis.aclose()

    found = asyncio.run(read())
    assert found is not None
    return found


def texts(stub: Any, wa_id: str) -> list[str]:
    return [text_of(m) for m in sent_to(stub, wa_id)]


def test_the_waiting_get_one_update_and_the_idle_go_back_to_the_bot(
    timers_env: Env, graph_api: tuple[Any, str], stores: Stores
) -> None:
    env, (stub, _) = timers_env, graph_api
    waiting, idle, fresh, busy = (new_wa_id() for _ in range(4))
    put(env, waiting, "waiting", since_s=11 * 60, idle_s=11 * 60)  # the update is after 10 min
    idle_thread = put(env, idle, "assigned", since_s=3600, idle_s=31 * 60)  # released after 30
    put(env, fresh, "waiting", since_s=60, idle_s=60)
    busy_thread = put(env, busy, "assigned", since_s=3600, idle_s=60)

    first = handoff_timers.handler(SCHEDULED)
    second = handoff_timers.handler(SCHEDULED)

    assert first == {"waiting_updates": 1, "released": 1, "failed": 0}
    assert second == {"waiting_updates": 0, "released": 0, "failed": 0}
    assert texts(stub, waiting) == [canned("waiting_update", "en")]
    assert sent_to(stub, waiting)[0]["authorization"] == f"Bearer {env.token}"
    assert texts(stub, idle) == [canned("back_to_bot", "en")]
    assert not sent_to(stub, fresh) and not sent_to(stub, busy)
    assert state_of(env, idle_thread).state == "resolved"
    assert state_of(env, busy_thread).state == "assigned"
    changes = [
        m.content
        for m in stores.conversations.session_messages(f"handoff:{idle_thread}")
        if m.role == "system"
    ]
    assert changes == ["handoff: assigned -> resolved"]


def test_two_passes_at_once_send_each_message_once(
    timers_env: Env, graph_api: tuple[Any, str]
) -> None:
    env, (stub, _) = timers_env, graph_api
    waiting, idle = new_wa_id(), new_wa_id()
    put(env, waiting, "waiting", since_s=11 * 60, idle_s=11 * 60)
    put(env, idle, "assigned", since_s=3600, idle_s=31 * 60)

    async def overlapping() -> list[dict[str, int]]:
        return list(
            await asyncio.gather(
                handoff_timers.process(SCHEDULED), handoff_timers.process(SCHEDULED)
            )
        )

    results = container.run(overlapping())
    assert sum(r["waiting_updates"] for r in results) == 1
    assert sum(r["released"] for r in results) == 1
    assert len(sent_to(stub, waiting)) == 1 and len(sent_to(stub, idle)) == 1


def test_an_update_meta_refused_is_sent_by_the_next_pass(
    timers_env: Env, graph_api: tuple[Any, str]
) -> None:
    env, (stub, _) = timers_env, graph_api
    waiting = new_wa_id()
    thread = put(env, waiting, "waiting", since_s=11 * 60, idle_s=11 * 60)
    stub.state.failures.append((400, 100))
    with pytest.raises(RuntimeError, match="1 thread"):
        handoff_timers.handler(SCHEDULED)
    assert not sent_to(stub, waiting) and not state_of(env, thread).waiting_update_sent
    assert handoff_timers.handler(SCHEDULED)["waiting_updates"] == 1
    assert texts(stub, waiting) == [canned("waiting_update", "en")]


def test_a_pass_walks_only_the_held_threads_and_finds_those_an_older_version_wrote(
    timers_env: Env, graph_api: tuple[Any, str]
) -> None:
    env, (stub, _) = timers_env, graph_api
    held_index = HandoffStore.held_index(env.number)
    for _ in range(3):
        put(env, new_wa_id(), "resolved", since_s=7200, idle_s=7200)
    waiting_wa_id = new_wa_id()
    waiting = put(env, waiting_wa_id, "waiting", since_s=11 * 60, idle_s=11 * 60)

    async def as_an_older_version_left_it() -> None:
        """The held index and its marker did not exist: only the index of every thread."""
        redis = Redis.from_url(env.redis_url)
        try:
            await redis.delete(held_index, f"wam:handoff:held-built:{env.number}")
        finally:
            await redis.aclose()

    asyncio.run(as_an_older_version_left_it())
    assert handoff_timers.handler(SCHEDULED) == {"waiting_updates": 1, "released": 0, "failed": 0}
    assert texts(stub, waiting_wa_id) == [canned("waiting_update", "en")]

    async def held_members() -> set[str]:
        redis = Redis.from_url(env.redis_url)
        try:
            return {m.decode() for m in await redis.zrange(held_index, 0, -1)}
        finally:
            await redis.aclose()

    assert asyncio.run(held_members()) == {waiting}  # the given-back threads are not walked
    put(env, waiting_wa_id, "resolved", since_s=0, idle_s=0)
    assert asyncio.run(held_members()) == set()
