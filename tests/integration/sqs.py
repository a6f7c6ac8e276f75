"""What the SQS tests share: moto's SQS through botocore's `AWS_ENDPOINT_URL_SQS`, fresh FIFO
queues with a dead-letter queue, and a channel whose queue backend is SQS."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from graph import SupervisorDeps
from server import AccountRegistry, Channel, ChannelConfig, GraphApiClient, MediaStore
from server.sqs import create_fifo_queue
from stores import Stores, aws_client
from tests.integration.whatsapp import NUMBER, SECRET


@pytest.fixture(scope="module")
def sqs_endpoint(servers: Any) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_SQS", servers.aws.url)
        yield servers.aws.url


def new_queue(visibility_timeout_s: int = 5, max_receives: int = 3) -> tuple[str, str]:
    """A new FIFO queue and its DLQ on moto: (queue URL, DLQ URL)."""
    return create_fifo_queue(
        aws_client("sqs", "us-east-1"),
        f"t-{uuid.uuid4().hex[:12]}",
        visibility_timeout_s=visibility_timeout_s,
        max_receives=max_receives,
    )


def dlq_bodies(dlq_url: str) -> list[dict[str, Any] | str]:
    client = aws_client("sqs", "us-east-1")
    bodies: list[dict[str, Any] | str] = []
    while True:
        got = client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            try:
                bodies.append(json.loads(m["Body"]))
            except ValueError:
                bodies.append(m["Body"])


def sqs_channel(
    settings: Any,
    stores: Stores,
    demo: SupervisorDeps,
    graph_url: str,
    queue_url: str,
    *,
    workers: int = 2,
) -> Channel:
    return Channel(
        config=ChannelConfig(
            verify_token="test-verify",
            app_secret=SECRET,
            redis_url=settings.redis_url,
            workers=workers,
            visibility_timeout_ms=5000,
            max_body_bytes=64_000,
            default_phone_number_id=NUMBER,
            # Wide enough that three webhooks posted one after another on a loaded machine still
            # arrive within it: at 1.5 s, one run in CI split them (the stream tests use 800 ms
            # against a process of their own, and test_sqs_delivery.py the window's edges).
            burst_window_ms=3000,
            queue_backend="sqs",
            sqs_queue_url=queue_url,
            sqs_max_receives=3,
        ),
        stores=stores,
        accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
        deps_for=lambda folder: demo,
        sender=GraphApiClient(graph_url, attempts=4),
        media=MediaStore(aws_client("s3", settings.aws_region), settings.s3_bucket),
    )
