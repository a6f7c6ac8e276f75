"""Faults and hostile input on the channel: the simulator is no signing oracle, mixed bursts, sends
whose outcome is unknown, outages and poison inputs (each once a defect, reproduced here)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from server import AccountRegistry, GraphApiClient, LocalOutbox, create_app
from server.http import GuardedH11Protocol, server_limits
from server.queue import Keys
from server.whatsapp import SendOutcomeUnknownError, text_payload
from stores import whatsapp_user_id
from stubs import BackgroundServer, create_graph_api_stub, sent_to, text_of
from tests.integration.conftest import new_wa_id
from tests.integration.whatsapp import (
    NUMBER,
    make_channel,
    message,
    payload,
    post,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_the_simulator_posts_only_to_itself_and_only_for_this_machine(
    settings, stores, demo, graph_api, tmp_path
) -> None:
    from checkpointers import EmbeddedRedis

    evil = create_graph_api_stub()
    evil_server = BackgroundServer(evil)
    evil_server.start()
    redis = EmbeddedRedis(tmp_path)
    redis.start()
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1, redis_url=redis.url)
    channel.outbox = LocalOutbox(redis.url)
    channel.sender = channel.outbox
    app = create_app(channel)
    server = BackgroundServer(app)
    server.start()
    try:
        # The caller names another host: the signed body must not go there.
        sent = httpx.post(
            server.url + "/simulator/messages",
            json={"wa_id": "15550004", "text": "hola"},
            headers={"host": f"127.0.0.1:{evil_server.port}"},
        )
        assert sent.status_code == 200 and sent.json()["webhook_status"] == 200
        assert evil.state.requests == 0
        wait_for(lambda: channel.outbox.for_user("15550004"), what="the simulated reply")

        async def from_elsewhere() -> list[int]:
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                return [
                    (await client.get("/simulator/customers")).status_code,
                    (
                        await client.post(
                            "/simulator/messages", json={"wa_id": "15550002", "text": "hi"}
                        )
                    ).status_code,
                ]

        assert asyncio.run(from_elsewhere()) == [403, 403]
    finally:
        server.stop()
        evil_server.stop()
        redis.stop()


def test_simulator_cannot_be_enabled_outside_local_mode() -> None:
    from app.channel import simulator_on
    from app.settings import ConfigurationError, load_settings

    real = load_settings(whatsapp_api_base_url="https://graph.facebook.com/v21.0")
    assert simulator_on(real) is False
    with pytest.raises(ConfigurationError, match="SIMULATOR_ENABLED"):
        simulator_on(real.model_copy(update={"simulator_enabled": True}))
    assert simulator_on(load_settings()) is True
    assert simulator_on(load_settings(simulator_enabled=False)) is False


def test_a_text_with_a_reaction_a_system_notice_and_a_voice_note_is_one_turn(
    app_url, graph_api, stores
) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    target = f"wamid.out.{uuid.uuid4().hex}"
    burst = [
        message(wa_id, text={"body": "What are your opening hours?"}),
        message(wa_id, "reaction", reaction={"message_id": target, "emoji": "👍"}),
        message(wa_id, "system", system={"body": "number changed", "type": "user_changed_number"}),
        message(wa_id, "audio", audio={"id": "media-not-there", "mime_type": "audio/ogg"}),
    ]
    assert post(app_url, payload(*burst)).json()["queued"] == 4
    wait_for(lambda: sent_to(stub, wa_id), what="the reply")
    reply = text_of(sent_to(stub, wa_id)[0])
    assert "went wrong" not in reply and "Monday" in reply
    logged = wait_for(
        lambda: [
            m
            for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
            if m.direction == "outbound"
        ],
        what="the logged reply",
    )
    assert len(logged) == 1


def test_a_send_that_times_out_is_not_sent_again(graph_api) -> None:
    stub, url = graph_api
    before = stub.state.requests
    stub.state.latency_s = 2.0

    async def send() -> None:
        client = GraphApiClient(url, attempts=5, timeout=0.5)
        try:
            with pytest.raises(SendOutcomeUnknownError):
                await client.send(NUMBER, "test-token", text_payload("15550009", "hi"))
        finally:
            await client.aclose()

    try:
        asyncio.run(send())
    finally:
        stub.state.latency_s = 0.0
    assert stub.state.requests - before == 1


def test_a_connection_refused_send_is_retried(graph_api) -> None:
    from checkpointers import free_loopback_port

    async def send() -> None:
        client = GraphApiClient(f"http://127.0.0.1:{free_loopback_port()}", attempts=2)
        try:
            with pytest.raises(httpx.ConnectError):
                await client.send(NUMBER, "test-token", text_payload("15550009", "hi"))
        finally:
            await client.aclose()

    asyncio.run(send())


def test_status_webhook_during_a_dynamodb_outage_is_503_not_500(
    settings, stores, demo, graph_api, monkeypatch
) -> None:
    from checkpointers import free_loopback_port

    channel = make_channel(settings, stores, demo, graph_api[1], workers=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_loopback_port()}")
    from stores import Stores

    channel.stores = Stores.connect(settings.aws_region, settings.table_prefix, 30)
    server = BackgroundServer(create_app(channel))
    server.start()
    try:
        body = payload(
            statuses=[
                {"id": "wamid.x", "status": "delivered", "timestamp": "1", "recipient_id": "1"}
            ]
        )
        response = post(server.url, body)
        assert response.status_code == 503, response.text
        assert "unavailable" in response.json()["error"]
    finally:
        server.stop()


def test_deeply_nested_json_is_400(app_url) -> None:
    for body in (b"[" * 20_000 + b"]" * 20_000, b'{"a":' * 3000 + b"1" + b"}" * 3000):
        response = post(app_url, body)
        assert response.status_code == 400, response.text
        assert "not a WhatsApp webhook" in response.json()["error"]


def test_input_that_can_never_succeed_is_answered_once_without_retries(
    app_url, graph_api, settings
) -> None:
    """A message id over DynamoDB's 2 KB key limit fails the same way on every attempt: it is
    answered once (a person will follow up), not retried five times."""
    stub, _ = graph_api
    wa_id = new_wa_id()
    poison = message(wa_id, message_id="wamid." + "x" * 3000, text={"body": "hello"})
    assert post(app_url, payload(poison)).json()["queued"] == 1
    wait_for(lambda: sent_to(stub, wa_id), timeout=30, what="the one reply")
    assert "went wrong" in text_of(sent_to(stub, wa_id)[0])
    attempts = Redis.from_url(settings.redis_url).get(Keys.attempts(poison["id"]))
    assert attempts == b"1"
    time.sleep(1.5)
    assert len(sent_to(stub, wa_id)) == 1


def test_no_phone_number_in_the_log_of_a_body_not_understood(app_url, capfd) -> None:
    bad = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": 15550123456}]}]}
    assert post(app_url, bad).status_code == 400
    time.sleep(0.2)
    captured = capfd.readouterr()
    lines = [
        line for line in (captured.out + captured.err).splitlines() if "not understood" in line
    ]
    assert lines and not any("15550123456" in line for line in lines), lines


def test_accounts_are_loaded_with_their_send_rate(tmp_path, monkeypatch) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "- {account_id: acme, account_name: Acme, phone_number_id: '200000000000002',\n"
        "   access_token_env: ACME_TOKEN, messages_per_second: 250}\n"
    )
    monkeypatch.setenv("ACME_TOKEN", "t")
    registry = AccountRegistry.load(NUMBER, "x", None, accounts, default_messages_per_second=40)
    acme, default = registry.get("200000000000002"), registry.get(NUMBER)
    assert acme is not None and acme.messages_per_second == 250
    assert default is not None and default.messages_per_second == 40


def test_a_thread_keeps_one_checkpoint_however_many_turns(app_url, graph_api, settings) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    redis = Redis.from_url(settings.redis_url)
    for turn, text in enumerate(["hi", "what are your opening hours?", "thanks", "and prices?"]):
        post(app_url, payload(message(wa_id, text={"body": text})))
        wait_for(lambda n=turn: len(sent_to(stub, wa_id)) == n + 1, what=f"reply {turn + 1}")

    def checkpoints() -> list[str]:
        return [k.decode() for k in redis.scan_iter(match=f"checkpoint:*{wa_id}*", count=1000)]

    def one_per_namespace() -> bool:  # pruning runs after each reply is sent
        keys = checkpoints()
        return 0 < len(keys) <= len({k.split(":")[3] if k.count(":") >= 4 else "" for k in keys})

    wait_for(one_per_namespace, timeout=10, what="one checkpoint per namespace")


class _QuickHeadDeadline(GuardedH11Protocol):
    head_timeout_s = 1.0


@pytest.fixture(scope="module")
def guarded_url(settings, stores, demo, graph_api) -> Iterator[str]:
    """The app behind the HTTP limits `wam serve` runs with (a short head deadline here)."""
    channel = make_channel(settings, stores, demo, graph_api[1], workers=0)
    server = BackgroundServer(
        create_app(channel), **(server_limits() | {"http": _QuickHeadDeadline})
    )
    server.start()
    yield server.url
    server.stop()


def test_oversized_and_countless_headers_are_refused(guarded_url) -> None:
    huge = {"x-big": "a" * 64 * 1024}
    assert httpx.get(f"{guarded_url}/healthz", headers=huge).status_code == 431
    many = {f"x-h{i}": "1" for i in range(3_000)}
    assert httpx.get(f"{guarded_url}/healthz", headers=many).status_code == 431
    assert httpx.get(f"{guarded_url}/healthz").status_code == 200


def test_a_slow_loris_connection_is_closed(guarded_url) -> None:
    import socket

    host, port = guarded_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        assert sock.recv(1024) == b""  # the server hung up
        assert time.monotonic() - started < 5


def test_a_redis_restart_is_survived_without_loss_or_duplicates(
    settings, stores, demo, graph_api, tmp_path
) -> None:
    """Redis dies (kill -9) and comes back on the same port and AOF: the webhook says 503 while
    it is gone (Meta retries), and afterwards every message is answered exactly once."""
    from checkpointers import EmbeddedRedis

    stub, _ = graph_api
    first = EmbeddedRedis(tmp_path / "redis")
    first.start()
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1, redis_url=first.url)
    server = BackgroundServer(create_app(channel))
    server.start()
    second = None
    try:
        before = new_wa_id()
        post(server.url, payload(message(before, text={"body": "What are your opening hours?"})))
        wait_for(lambda: sent_to(stub, before), what="the answer before the outage")
        pid = int(Redis.from_url(first.url).info("server")["process_id"])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not first.is_running(), what="redis to die")
        first.stop()  # the dead server's lock on its data folder
        during = payload(message(new_wa_id(), text={"body": "hello?"}))
        assert post(server.url, during).status_code == 503
        second = EmbeddedRedis(tmp_path / "redis", port=first.port)
        second.start()
        after = new_wa_id()
        body = payload(message(after, text={"body": "What are your opening hours?"}))
        wait_for(lambda: post(server.url, body).status_code == 200, what="the webhook again")
        wait_for(lambda: sent_to(stub, after), timeout=60, what="the answer after the restart")
        time.sleep(2)
        assert len(sent_to(stub, before)) == 1 and len(sent_to(stub, after)) == 1
    finally:
        server.stop()
        if second is not None:
            second.stop()
        first.stop()


def test_the_stream_is_trimmed_on_ack_and_dead_consumers_are_forgotten(settings) -> None:
    from redis.asyncio import Redis as AsyncRedis

    from server.queue import InboundQueue, queue_fields

    stream = f"wam:test:{uuid.uuid4().hex}"

    async def scenario() -> tuple[int, list[str]]:
        redis = AsyncRedis.from_url(settings.redis_url)
        queue = InboundQueue(redis, stream=stream)
        await queue.ensure_group()
        for n in range(3):
            await queue.enqueue_once(
                f"wamid.trim.{uuid.uuid4().hex}",
                queue_fields(message_id=f"m{n}", phone_number_id=NUMBER, wa_id="15550009"),
            )
        entries = await queue.read("stopped-worker", count=10, block_ms=100)
        await queue.ack([entry_id for entry_id, _ in entries])
        await queue.read("live-worker", count=10, block_ms=10)
        removed = await queue.remove_idle_consumers(idle_ms=0, keep="live-worker")
        consumers = await redis.xinfo_consumers(stream, queue.group)
        length = int(await redis.xlen(stream))
        await redis.delete(stream)
        await redis.aclose()
        assert removed == 1
        return length, [c["name"].decode() for c in consumers]

    length, consumers = asyncio.run(scenario())
    assert length == 0  # acknowledged entries are deleted, not kept as history
    assert consumers == ["live-worker"]


def test_a_send_whose_outcome_is_unknown_is_settled_by_the_retry(
    graph_api, settings, stores
) -> None:
    """Meta never took the reply (the connection failed after the request was written): the turn
    fails instead of dropping it, and its retry sends it once, after the reconcile delay in
    which Meta's status would have said it was taken."""
    from redis.asyncio import Redis as AsyncRedis

    from server.metrics import Metrics
    from server.pacing import SendPacer
    from server.queue import InboundItem
    from server.replies import Reply, ReplySender

    stub, url = graph_api
    wa_id = new_wa_id()
    item = InboundItem("1-0", f"wamid.in.{uuid.uuid4().hex}", NUMBER, wa_id, "text", "hi")
    stub.state.hang_seconds = 2.0  # the first send gets no answer in time, and is not taken

    async def scenario() -> None:
        redis = AsyncRedis.from_url(settings.redis_url)
        client = GraphApiClient(url, timeout=0.5)
        replies = ReplySender(
            redis=redis,
            sender=client,
            stores=stores,
            pacer=SendPacer(redis),
            metrics=Metrics(),
            reconcile_seconds=1.0,
        )
        account = AccountRegistry.load(NUMBER, "test-token", None, None).get(NUMBER)
        assert account is not None
        try:
            with pytest.raises(SendOutcomeUnknownError):
                await replies.send_once(account, item, Reply("answered at last"))
            assert not sent_to(stub, wa_id)
            await replies.send_once(account, item, Reply("answered at last"))  # the retry
            await replies.send_once(account, item, Reply("answered at last"))  # a replay
        finally:
            await client.aclose()
            await redis.aclose()

    asyncio.run(scenario())
    assert [text_of(m) for m in sent_to(stub, wa_id)] == ["answered at last"]
