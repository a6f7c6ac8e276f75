"""The WhatsApp channel over HTTP: the real FastAPI app and workers on real Redis and DynamoDB,
replying through the real Graph API client to a local stub of Meta's API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkpointers import EmbeddedRedis
from graph import SupervisorDeps
from server import AccountRegistry, GraphApiClient, create_app
from stores import ConversationMessage, aws_client, whatsapp_user_id
from stubs.graph_api import sent_to, text_of
from tests.integration.conftest import new_wa_id, wam_env
from tests.integration.whatsapp import (
    NUMBER,
    make_channel,
    message,
    payload,
    post,
    wait_for,
)
from tests.integration.workers import killed_mid_send_answers_once
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


def test_verification_answers_the_challenge_only_with_the_right_token(app_url) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "test-verify",
        "hub.challenge": "1158201444",
    }
    good = httpx.get(f"{app_url}/webhook", params=query)
    assert good.status_code == 200 and good.text == "1158201444"
    assert good.headers["content-type"].startswith("text/plain")
    bad = httpx.get(f"{app_url}/webhook", params=query | {"hub.verify_token": "nope"})
    assert bad.status_code == 403
    assert httpx.get(f"{app_url}/webhook", params=query | {"hub.mode": "x"}).status_code == 403


def test_signatures_are_checked_before_parsing(app_url) -> None:
    body = payload(message(new_wa_id()))
    assert post(app_url, body, secret=None).status_code == 401
    assert post(app_url, body, secret="wrong").status_code == 403
    assert post(app_url, b"not json at all", secret=None).status_code == 401
    assert post(app_url, b"not json at all").status_code == 400
    assert post(app_url, b"x" * 70_000).status_code == 413


def test_text_message_is_answered_through_the_graph(app_url, graph_api, stores) -> None:
    stub, _ = graph_api
    inbound = message("15550002", text={"body": "How much is the premium plan?"})
    assert post(app_url, payload(inbound)).json() == {"status": "ok", "queued": 1}
    reply = wait_for(
        lambda: [m for m in sent_to(stub, "15550002") if "$29.99" in text_of(m)], what="the reply"
    )[0]
    assert "(Source: Plans and pricing)" in text_of(reply) and "[source" not in text_of(reply)
    assert any(
        r["message_id"] == inbound["id"] and r["typing_indicator"] == {"type": "text"}
        for r in stub.state.reads
    )

    def sent_item():
        item = stores.conversations.get(reply["id"])
        return item if item is not None and item.status == "sent" else None

    logged = wait_for(sent_item, what="the logged reply marked sent")
    assert logged.agent_id == "sales" and logged.content == text_of(reply)


def test_duplicate_delivery_is_answered_once(app_url, graph_api) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    first = message(wa_id, text={"body": "What are your opening hours?"})
    assert post(app_url, payload(first)).json()["queued"] == 1
    assert post(app_url, payload(first)).json()["queued"] == 0
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="first reply")
    assert post(app_url, payload(first)).json()["queued"] == 0
    # A later message of the same user is answered after anything still pending for it.
    post(app_url, payload(message(wa_id, text={"body": "thanks"})))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="second reply")
    assert "Monday to Friday" in text_of(sent_to(stub, wa_id)[0])
    assert "welcome" in text_of(sent_to(stub, wa_id)[1])


def test_burst_of_three_messages_is_one_turn(app_url, graph_api, stores) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    burst = [
        message(wa_id, text={"body": text})
        for text in ("hi", "I was charged twice", "I want a refund please")
    ]
    assert post(app_url, payload(*burst)).json()["queued"] == 3
    wait_for(lambda: sent_to(stub, wa_id), what="the reply")
    logged = wait_for(
        lambda: [
            m
            for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
            if m.direction == "outbound"
        ],
        what="the logged reply",
    )
    messages = stores.conversations.user_messages(whatsapp_user_id(wa_id))
    assert [m.direction for m in messages] == ["inbound"] * 3 + ["outbound"]
    assert len(sent_to(stub, wa_id)) == 1
    assert logged[0].agent_id == "billing"


def test_long_answer_is_split_and_throttling_is_retried(
    app_url, graph_api, settings, stores, demo
) -> None:
    import asyncio

    from redis.asyncio import Redis

    from server.queue import InboundItem, InboundQueue
    from server.replies import Reply
    from server.worker import Worker

    stub, url = graph_api
    wa_id = new_wa_id()
    long_text = ("This is a fairly long sentence about smart speakers. " * 60 + "\n\n") * 2
    stub.state.failures = [(429, 130429), (503, 1)]
    requests_before = stub.state.requests

    async def send() -> None:
        redis = Redis.from_url(settings.redis_url)
        worker = Worker(
            redis=redis,
            queue=InboundQueue(redis),
            accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
            graph_for=None,
            sender=GraphApiClient(url),
            stores=stores,
        )  # type: ignore[arg-type]
        item = InboundItem("1-0", f"wamid.in.{uuid.uuid4().hex}", NUMBER, wa_id, "text", "x")
        account = worker.accounts.get(NUMBER)
        assert account is not None
        await worker.replies.send_once(account, item, Reply(long_text.strip()))
        await worker.replies.send_once(account, item, Reply(long_text.strip()))  # replay: no send
        await redis.aclose()

    asyncio.run(send())
    pieces = [text_of(m) for m in sent_to(stub, wa_id)]
    assert len(long_text.strip()) > 5000 and len(pieces) == 2
    assert all(len(p) <= 4096 for p in pieces)
    assert pieces[0].endswith("speakers.") and "".join(pieces).replace(" ", "") == (
        long_text.strip().replace(" ", "").replace("\n", "")
    )
    assert stub.state.requests - requests_before == 4  # 429 and 503 retried, then 2 sends


def test_outside_the_24_hour_window_is_not_retried(graph_api) -> None:
    import asyncio

    from server.whatsapp import OutsideWindowError, text_payload

    stub, url = graph_api
    stub.state.failures = [(400, 131047)]
    before = stub.state.requests

    async def send() -> None:
        with pytest.raises(OutsideWindowError):
            await GraphApiClient(url).send(NUMBER, "test-token", text_payload("15550009", "hi"))

    asyncio.run(send())
    assert stub.state.requests - before == 1


def test_statuses_only_move_forward(app_url, stores) -> None:
    from stores import ConversationMessage

    wa_id = new_wa_id()
    item = ConversationMessage(
        user_id=whatsapp_user_id(wa_id),
        session_id="s-status",
        message_id=f"in-{uuid.uuid4().hex}:reply",
        direction="outbound",
        role="assistant",
        content="hi",
    )
    stores.conversations.append(item)
    wamid = f"wamid.out.{uuid.uuid4().hex}"
    stores.conversations.link_message_id(wamid, item.message_id)

    def status(name: str, **extra: Any) -> None:
        body = payload(
            statuses=[
                {"id": wamid, "status": name, "timestamp": "1", "recipient_id": wa_id, **extra}
            ]
        )
        assert post(app_url, body).status_code == 200

    status("delivered")
    status("read")
    status("sent")  # late
    status("delivered")  # late
    assert stores.conversations.get(wamid).status == "read"
    status("failed", errors=[{"code": 131026, "title": "Message undeliverable"}])
    stored = stores.conversations.get(wamid)
    assert stored.status == "failed" and stored.status_error_code == 131026


def test_every_documented_message_type_is_accepted(app_url, graph_api) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    stub.state.media["media-img-1"] = (b"\x89PNG fake", "image/png")
    kinds = [
        message(wa_id, text={"body": "hello"}),
        message(
            wa_id,
            "image",
            image={
                "id": "media-img-1",
                "mime_type": "image/png",
                "sha256": "x",
                "caption": "my router",
            },
        ),
        message(
            wa_id,
            "audio",
            audio={"id": "media-a", "mime_type": "audio/ogg; codecs=opus", "voice": True},
        ),
        message(wa_id, "video", video={"id": "media-v", "mime_type": "video/mp4"}),
        message(
            wa_id,
            "document",
            document={
                "id": "media-d",
                "mime_type": "application/pdf",
                "filename": "invoice.pdf",
                "caption": "bill",
            },
        ),
        message(
            wa_id,
            "sticker",
            sticker={"id": "media-s", "mime_type": "image/webp", "animated": False},
        ),
        message(
            wa_id,
            "location",
            location={
                "latitude": 37.77,
                "longitude": -122.41,
                "name": "Office",
                "address": "120 Market St",
            },
        ),
        message(
            wa_id,
            "contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Ana", "first_name": "Ana"},
                    "phones": [{"phone": "+1555", "type": "CELL"}],
                }
            ],
        ),
        message(
            wa_id,
            "interactive",
            interactive={"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}},
        ),
        message(
            wa_id,
            "interactive",
            interactive={
                "type": "list_reply",
                "list_reply": {"id": "r1", "title": "Premium", "description": "$29.99"},
            },
        ),
        message(wa_id, "button", button={"text": "Track order", "payload": "TRACK"}),
        message(wa_id, "reaction", reaction={"message_id": "wamid.x", "emoji": "👍"}),
        message(
            wa_id,
            "order",
            order={
                "catalog_id": "c1",
                "text": "for home",
                "product_items": [
                    {
                        "product_retailer_id": "echo-mini",
                        "quantity": 2,
                        "item_price": 49,
                        "currency": "USD",
                    }
                ],
            },
        ),
        message(
            wa_id,
            "system",
            system={
                "body": "User changed number",
                "type": "user_changed_number",
                "new_wa_id": "15550999",
            },
        ),
        message(wa_id, "unsupported", errors=[{"code": 131051, "title": "Message type unknown"}]),
        message(
            wa_id,
            "text",
            text={"body": "from an ad"},
            referral={
                "source_url": "https://example.com/ad",
                "source_type": "ad",
                "source_id": "1",
                "headline": "Sale",
            },
        ),
        message(wa_id, "hologram", hologram={"dimensions": 3}),
    ]
    for inbound in kinds:
        response = post(app_url, payload(inbound))
        assert response.status_code == 200, (inbound["type"], response.text)
        assert response.json()["queued"] == 1
    wait_for(lambda: sent_to(stub, wa_id), what="a reply to the burst")
    assert post(app_url, payload(message(wa_id), number="999999")).json()["queued"] == 0


def test_opt_out_and_opt_in(app_url, graph_api, stores) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()

    def say(text: str) -> None:
        post(app_url, payload(message(wa_id, text={"body": text})))

    say("STOP")
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="opt-out confirmation")
    assert "START" in text_of(sent_to(stub, wa_id)[0])
    assert stores.users.is_opted_in(wa_id, NUMBER) is False
    say("hello?")
    wait_for(
        lambda: any(
            m.content == "hello?"
            for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
        ),
        what="the unanswered message logged",
    )
    say("ALTA")
    wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="opt-in confirmation")
    assert "Bienvenido" in text_of(sent_to(stub, wa_id)[1])  # a Spanish command, a Spanish reply
    assert stores.users.is_opted_in(wa_id, NUMBER) is True
    say("What are your opening hours?")
    wait_for(lambda: len(sent_to(stub, wa_id)) == 3, what="an answer again")
    assert "Monday to Friday" in text_of(sent_to(stub, wa_id)[2])


def test_health_readiness_and_metrics(app_url) -> None:
    assert httpx.get(f"{app_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{app_url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"redis": "ok", "dynamodb": "ok"}
    metrics = httpx.get(f"{app_url}/metrics").text
    for name in (
        "wam_webhooks_total",
        "wam_queue_depth",
        "wam_turn_seconds",
        "wam_sends_total",
        "wam_model_seconds",
        "wam_turns_in_flight",
        "wam_messages_waiting",
        "wam_message_wait_seconds_bucket",
        "wam_model_calls_in_flight",
        "wam_model_calls_waiting",
        "wam_sends_throttled_total",
    ):
        assert name in metrics
    # Messages have waited for their turn by now (earlier tests of this module): it is measured.
    waited = [
        line for line in metrics.splitlines() if line.startswith("wam_message_wait_seconds_count")
    ]
    assert waited and float(waited[0].split()[-1]) > 0


def test_redis_down_gives_503(settings, stores, demo, graph_api, tmp_path) -> None:
    redis = EmbeddedRedis(tmp_path)
    redis.start()
    app = create_app(
        make_channel(settings, stores, demo, graph_api[1], workers=0, redis_url=redis.url)
    )
    server = BackgroundServer(app)
    server.start()
    try:
        assert post(server.url, payload(message(new_wa_id()))).status_code == 200
        redis.stop()
        response = post(server.url, payload(message(new_wa_id())))
        assert response.status_code == 503
        assert httpx.get(f"{server.url}/readyz").status_code == 503
    finally:
        server.stop()
        redis.stop()


def test_worker_killed_mid_turn_is_replaced_and_answers_once(
    settings, servers, stores, demo, graph_api, tmp_path, billing_api
) -> None:
    """A worker process dies while sending; another takes the message over and answers once.

    Its own Redis: only the two worker processes consume this stream.
    """
    stub, url = graph_api
    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start()
    api = BackgroundServer(
        create_app(make_channel(settings, stores, demo, url, workers=0, redis_url=redis.url))
    )
    api.start()
    env = wam_env(
        settings,
        servers,
        tmp_path,
        REDIS_URL=redis.url,
        WHATSAPP_API_BASE_URL=url,
        WHATSAPP_ACCESS_TOKEN="test-token",
        WHATSAPP_PHONE_NUMBER_ID=NUMBER,
        VISIBILITY_TIMEOUT_SECONDS="5",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    try:
        wa_id, replies = killed_mid_send_answers_once(api.url, stub, env)
        assert "account linked to this WhatsApp number" in text_of(replies[0])
        outbound = [
            m
            for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
            if m.direction == "outbound"
        ]
        assert len(outbound) == 2
    finally:
        api.stop()
        redis.stop()


def test_simulator_page_and_outbox(settings, stores, demo, graph_api, tmp_path) -> None:
    import asyncio
    import base64

    from server import LocalOutbox
    from server.whatsapp import text_payload

    redis = EmbeddedRedis(tmp_path)  # its own stream: no other test's workers answer here
    redis.start()
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1, redis_url=redis.url)
    channel.outbox = LocalOutbox(redis.url)
    channel.sender = channel.outbox
    server = BackgroundServer(create_app(channel))
    server.start()
    try:
        page = httpx.get(server.url + "/")
        assert page.status_code == 200 and "WhatsApp simulator" in page.text
        customers = httpx.get(server.url + "/simulator/customers").json()
        assert {
            "wa_id": "15550004",
            "name": "María García",
            "service_level": "basic",
            "language": "es",
        } in customers
        sent = httpx.post(
            server.url + "/simulator/messages",
            json={"wa_id": "15550004", "text": "¿Cuál es su horario?"},
        )
        assert sent.json()["webhook_status"] == 200
        replies = httpx.get(
            server.url + "/simulator/outbox", params={"wa_id": "15550004", "wait": 20}, timeout=30
        ).json()
        assert replies and "lunes" in replies[0]["text"].lower()
        # Who answered and with what, from the conversation log, with the reply itself.
        described = replies[0]
        assert described["agent"] == "general" and "search_knowledge_base" in described["tools"]
        state = httpx.get(server.url + "/simulator/state", params={"wa_id": "15550004"}).json()
        assert state["handoff"] == "bot" and state["inbox"].startswith("/inbox?thread=")
        # A reply sent by another process (a separate `wam worker`) shows up too.
        other = LocalOutbox(redis.url)
        asyncio.run(other.send(NUMBER, "t", text_payload("15550004", "from another process")))
        texts = [
            r["text"]
            for r in httpx.get(
                server.url + "/simulator/outbox", params={"wa_id": "15550004"}
            ).json()
        ]
        assert "from another process" in texts
        # A reply is described from the moment it is sent: it was logged under the inbound id
        # its callback tag names, before Meta's id was recorded for it.
        inbound_id = f"wamid.in.{uuid.uuid4().hex}"
        stores.conversations.append(
            ConversationMessage(
                user_id="whatsapp:+15550004",
                session_id="s",
                message_id=f"{inbound_id}:reply",
                direction="outbound",
                role="assistant",
                content="logged first",
                agent_id="billing",
                metadata={"tools": ["get_invoices"]},
            )
        )
        tagged = text_payload("15550004", "logged first") | {
            "biz_opaque_callback_data": f"reply-to:{inbound_id}"
        }
        asyncio.run(other.send(NUMBER, "t", tagged))
        fresh = httpx.get(server.url + "/simulator/outbox", params={"wa_id": "15550004"}).json()
        assert [(r["agent"], r["tools"]) for r in fresh if r["text"] == "logged first"] == [
            ("billing", ["get_invoices"])
        ]
        # An image and a location take the production path too.
        image = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
        for extra in (
            {"kind": "image", "media_base64": image, "mime_type": "image/png", "text": "my hub"},
            {"kind": "location", "text": "Home", "latitude": 40.4, "longitude": -3.7},
        ):
            sent = httpx.post(
                server.url + "/simulator/messages", json={"wa_id": "15550004", **extra}
            )
            assert sent.json()["webhook_status"] == 200, sent.text
        wait_for(  # sent together, they are one burst: one more reply
            lambda: len(channel.outbox.for_user("15550004")) >= 3,
            timeout=30,
            what="the reply to the image and the location",
        )
        bad = httpx.post(server.url + "/simulator/messages", json={"wa_id": "x", "text": ""})
        assert bad.status_code == 422
    finally:
        server.stop()
        redis.stop()


def test_business_accounts_file_adds_tenants(tmp_path: Path, monkeypatch) -> None:
    from server import AccountConfigError

    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "- {account_id: acme, account_name: Acme, phone_number_id: '200000000000002',\n"
        "   access_token_env: ACME_TOKEN, agents_dir: acme-agents}\n"
    )
    (tmp_path / "acme-agents").mkdir()
    with pytest.raises(AccountConfigError, match="ACME_TOKEN is not set"):
        AccountRegistry.load(NUMBER, "t", None, accounts)
    monkeypatch.setenv("ACME_TOKEN", "acme-secret")
    registry = AccountRegistry.load(NUMBER, "t", None, accounts)
    acme = registry.get("200000000000002")
    assert acme is not None and acme.access_token == "acme-secret"
    assert acme.agents_dir == tmp_path / "acme-agents"
    assert registry.get(NUMBER) is not None and registry.get("3") is None


def test_voice_note_asks_for_text_and_image_is_stored(app_url, graph_api, settings) -> None:
    from datetime import UTC, datetime

    stub, _ = graph_api
    voice_user, image_user = new_wa_id(), new_wa_id()
    stub.state.media["media-voice-1"] = (b"OggS fake", "audio/ogg")
    post(
        app_url,
        payload(
            message(
                voice_user,
                "audio",
                audio={"id": "media-voice-1", "mime_type": "audio/ogg; codecs=opus", "voice": True},
            )
        ),
    )
    reply = wait_for(lambda: sent_to(stub, voice_user), what="the voice-note reply")
    assert "voice notes" in text_of(reply[0])

    stub.state.media["media-img-2"] = (b"\x89PNG photo", "image/png")
    inbound = message(
        image_user,
        "image",
        image={"id": "media-img-2", "mime_type": "image/png", "caption": "my router"},
    )
    post(app_url, payload(inbound))
    wait_for(lambda: sent_to(stub, image_user), what="the reply to the image")
    s3 = aws_client("s3", settings.aws_region)
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    stored = s3.get_object(Bucket=settings.s3_bucket, Key=f"media/images/{day}/{inbound['id']}.png")
    assert stored["Body"].read() == b"\x89PNG photo"


def test_each_business_account_answers_with_its_token_and_agents(
    settings, stores, demo, graph_api, tmp_path
) -> None:
    from server import BusinessAccount

    stub, url = graph_api
    stub.state.tokens.add("Bearer acme-token")
    acme_agents = tmp_path / "acme-agents"
    requested: list[Path | None] = []

    def deps_for(folder: Path | None) -> SupervisorDeps:
        requested.append(folder)
        return demo

    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start()
    channel = make_channel(settings, stores, demo, url, workers=1, redis_url=redis.url)
    channel.deps_for = deps_for
    channel.accounts = AccountRegistry(
        [
            *channel.accounts.all(),
            BusinessAccount(
                account_id="acme",
                account_name="Acme",
                phone_number_id="200000000000002",
                access_token="acme-token",
                agents_dir=acme_agents,
            ),
        ]
    )
    server = BackgroundServer(create_app(channel))
    server.start()
    try:
        default_user, acme_user = new_wa_id(), new_wa_id()
        post(server.url, payload(message(default_user, text={"body": "hello"})))
        post(
            server.url,
            payload(message(acme_user, text={"body": "hello"}), number="200000000000002"),
        )
        default_reply = wait_for(lambda: sent_to(stub, default_user), what="default reply")[0]
        acme_reply = wait_for(lambda: sent_to(stub, acme_user), what="acme reply")[0]
    finally:
        server.stop()
        redis.stop()
    assert default_reply["phone_number_id"] == NUMBER
    assert default_reply["authorization"] == "Bearer test-token"
    assert acme_reply["phone_number_id"] == "200000000000002"
    assert acme_reply["authorization"] == "Bearer acme-token"
    assert sorted(requested, key=str) == sorted([None, acme_agents], key=str)
