"""The WhatsApp channel with QUEUE_BACKEND=sqs: the real FastAPI app enqueues on moto's SQS FIFO,
its SQS consumers answer through the real graph, replies reach the Graph API stub once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from server import create_app
from stores import whatsapp_user_id
from stubs.graph_api import sent_to, text_of
from tests.integration.conftest import new_wa_id, wam_env
from tests.integration.sqs import new_queue, sqs_channel
from tests.integration.whatsapp import NUMBER, message, payload, post, wait_for
from tests.integration.workers import killed_mid_send_answers_once
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sqs_app(settings, stores, demo, graph_api, sqs_endpoint) -> Iterator[str]:
    url, _ = new_queue(visibility_timeout_s=5, max_receives=3)
    server = BackgroundServer(create_app(sqs_channel(settings, stores, demo, graph_api[1], url)))
    server.start()
    yield server.url
    server.stop()


def test_a_message_goes_through_sqs_and_is_answered_once(sqs_app, graph_api, stores) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    first = message(wa_id, text={"body": "What are your opening hours?"})
    assert post(sqs_app, payload(first)).json() == {"status": "ok", "queued": 1}
    assert post(sqs_app, payload(first)).json()["queued"] == 0
    wait_for(lambda: sent_to(stub, wa_id), what="the reply")
    assert "Monday to Friday" in text_of(sent_to(stub, wa_id)[0])
    post(sqs_app, payload(message(wa_id, text={"body": "thanks"})))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="the second reply")
    assert "welcome" in text_of(sent_to(stub, wa_id)[1])


def test_a_burst_over_three_webhooks_is_one_turn(sqs_app, graph_api, stores) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    started = time.monotonic()
    for text in ("hi", "I was charged twice", "I want a refund please"):
        assert post(sqs_app, payload(message(wa_id, text={"body": text}))).json()["queued"] == 1
    posting = time.monotonic() - started
    wait_for(lambda: sent_to(stub, wa_id), what="the reply")

    def logged() -> list[str]:
        messages = stores.conversations.user_messages(whatsapp_user_id(wa_id))
        return [m.direction for m in messages]

    wait_for(lambda: "outbound" in logged(), what="the logged reply")
    assert logged() == ["inbound"] * 3 + ["outbound"], f"the three posts took {posting:.1f} s"
    assert len(sent_to(stub, wa_id)) == 1


def test_a_worker_killed_mid_send_is_replaced_and_answers_once(
    settings, servers, stores, demo, graph_api, tmp_path, billing_api, sqs_endpoint
) -> None:
    """`wam worker` on SQS dies while sending; after the visibility timeout another takes the
    message and answers it once (the sent record)."""
    stub, graph_url = graph_api
    queue_url, _ = new_queue(visibility_timeout_s=5, max_receives=5)
    api = BackgroundServer(
        create_app(sqs_channel(settings, stores, demo, graph_url, queue_url, workers=0))
    )
    api.start()
    env = wam_env(
        settings,
        servers,
        tmp_path,
        WHATSAPP_API_BASE_URL=graph_url,
        WHATSAPP_ACCESS_TOKEN="test-token",
        WHATSAPP_PHONE_NUMBER_ID=NUMBER,
        VISIBILITY_TIMEOUT_SECONDS="5",
        QUEUE_BACKEND="sqs",
        SQS_QUEUE_URL=queue_url,
        AWS_ENDPOINT_URL_SQS=servers.aws.url,
    )
    try:
        killed_mid_send_answers_once(api.url, stub, env, timeout=90)
    finally:
        api.stop()
