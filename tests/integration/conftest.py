"""The demo business on the real servers: seeded tables, indexed KB, billing API, graph."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from agents import load_agents
from app.settings import Settings
from app.wiring import build_deps, demo_billing_api, index_bundled_knowledge
from checkpointers import async_redis_saver
from graph import SupervisorDeps, SupervisorGraph, compile_supervisor
from stores import Customer, Stores, ensure_bucket, seed_demo
from stores.aws import aws_client
from tests.integration.browser import browser  # noqa: F401  (fixture)
from tests.integration.sqs import sqs_endpoint  # noqa: F401  (fixture)
from tests.integration.whatsapp import app_url, graph_api  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def billing_api(servers: Any) -> Iterator[str]:
    previous = {
        name: os.environ.pop(name, None) for name in ("BILLING_API_URL", "BILLING_API_TOKEN")
    }
    with demo_billing_api() as url:
        assert url is not None
        yield url
    for name, value in previous.items():
        if value is not None:
            os.environ[name] = value


@pytest.fixture(scope="session")
def demo(settings: Settings, stores: Stores, billing_api: str) -> SupervisorDeps:
    seed_demo(stores.customers)
    ensure_bucket(aws_client("s3", settings.aws_region), settings.s3_bucket, settings.aws_region)
    redis = Redis.from_url(settings.redis_url or "")
    agents = load_agents()
    index_bundled_knowledge(settings, redis, agents)
    return build_deps(settings, stores=stores, redis=redis, override="offline", agents=agents)


@pytest.fixture(scope="session")
async def supervisor(settings: Settings, demo: SupervisorDeps) -> AsyncIterator[SupervisorGraph]:
    assert settings.redis_url
    async with async_redis_saver(settings.redis_url, settings.session_ttl_minutes) as saver:
        yield compile_supervisor(demo, saver)


@pytest.fixture
def new_customer(stores: Stores, demo: SupervisorDeps):
    """A fresh customer (own number, own devices) so tests that change records stay independent."""

    def make(level: str = "basic", language: str = "en", devices: int = 1) -> Customer:
        number = 15_600_000_000 + uuid.uuid4().int % 100_000_000
        rooms = ["living_room", "kitchen", "office"]
        return stores.customers.put_customer(
            {
                "id": f"cust_t{uuid.uuid4().hex[:10]}",
                "name": "Test Customer",
                "phone": f"+{number}",
                "service_level": level,
                "language": language,
                "devices": [
                    {
                        "id": f"dev_t{i}",
                        "type": "SmartSpeaker",
                        "name": f"Speaker {i}",
                        "location": rooms[i],
                        "volume": 50,
                    }
                    for i in range(devices)
                ],
            }
        )

    return make


WAM = [sys.executable, "-c", "from app.cli import main; main()"]


def wam_env(settings: Settings, servers: Any, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `wam` subprocess on this session's servers and tables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        REDIS_URL=settings.redis_url or "",
        AWS_ENDPOINT_URL_DYNAMODB=servers.aws.url,
        AWS_ENDPOINT_URL_S3=servers.aws.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        TABLE_PREFIX=settings.table_prefix,
        MODEL_PROVIDER="offline",
        DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def new_wa_id() -> str:
    return str(15_700_000_000 + uuid.uuid4().int % 100_000_000)
