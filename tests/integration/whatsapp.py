"""What the channel's tests share: webhook payloads and signed POSTs, a test app's channel, and
the module-scoped fixtures `graph_api` (Meta's stub) and `app_url` (the app with two workers),
registered for every module by conftest.py."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from graph import SupervisorDeps
from server import AccountRegistry, Channel, ChannelConfig, GraphApiClient, MediaStore, create_app
from server.webhook import signature_for
from stores import Stores, aws_client
from stubs import BackgroundServer, create_graph_api_stub

NUMBER = "100000000000001"
SECRET = "test-secret"


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def message(wa_id: str, kind: str = "text", message_id: str | None = None, **body: Any) -> dict:
    content = body or ({"text": {"body": "hello"}} if kind == "text" else {})
    return {
        "from": wa_id,
        "id": message_id or f"wamid.in.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": kind,
        **content,
    }


def payload(*messages: dict, statuses: list[dict] | None = None, number: str = NUMBER) -> dict:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": number},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Test"}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value}]}],
    }


def post(base: str, body: dict | bytes, secret: str | None = SECRET) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-hub-signature-256"] = signature_for(raw, secret)
    return httpx.post(f"{base}/webhook", content=raw, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def graph_api() -> Iterator[tuple[Any, str]]:
    app = create_graph_api_stub()
    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


def make_channel(
    settings,
    stores: Stores,
    demo: SupervisorDeps,
    graph_url: str,
    *,
    workers: int,
    redis_url: str | None = None,
) -> Channel:
    return Channel(
        config=ChannelConfig(
            verify_token="test-verify",
            app_secret=SECRET,
            redis_url=redis_url or settings.redis_url,
            workers=workers,
            visibility_timeout_ms=1500,
            max_body_bytes=64_000,
            default_phone_number_id=NUMBER,
            burst_window_ms=300,
        ),
        stores=stores,
        accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
        deps_for=lambda folder: demo,
        sender=GraphApiClient(graph_url, attempts=4),
        media=MediaStore(aws_client("s3", settings.aws_region), settings.s3_bucket),
    )


@pytest.fixture(scope="module")
def app_url(settings, stores, demo, graph_api) -> Iterator[str]:
    server = BackgroundServer(
        create_app(make_channel(settings, stores, demo, graph_api[1], workers=2))
    )
    server.start()
    yield server.url
    server.stop()
