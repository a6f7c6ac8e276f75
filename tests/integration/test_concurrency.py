"""Many customers at once against a model that takes seconds: the scheduler, bursts, pacing,
crashes and graceful stops, over real HTTP (webhook, Converse stub, Graph API stub) on a Redis of
this module's own, so only these workers consume its stream."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from agents import load_agents
from app.wiring import build_deps, index_bundled_knowledge
from checkpointers import EmbeddedRedis, free_loopback_port
from graph import SupervisorDeps
from server import AccountRegistry, Channel, ChannelConfig, GraphApiClient, create_app
from server.webhook import signature_for
from stubs import BackgroundServer, create_converse_stub, create_graph_api_stub, sent_to
from tests.integration.conftest import WAM, new_wa_id, wam_env
from tests.integration.whatsapp import NUMBER, SECRET, message, payload, wait_for
from tests.integration.workers import start_worker

pytestmark = pytest.mark.integration
MODEL_SECONDS = 1.5
SERVE_LOG = Path(tempfile.gettempdir()) / f"wam-serve-concurrency-{os.getpid()}.log"  # diagnostics


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory) -> Iterator[EmbeddedRedis]:
    redis = EmbeddedRedis(tmp_path_factory.mktemp("concurrency-redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def model(servers) -> Iterator[tuple[Any, str]]:
    """A Bedrock Converse endpoint answering every call with text after MODEL_SECONDS."""
    app = create_converse_stub(strict=True)
    app.state.text_only = True
    server = BackgroundServer(app)
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        yield app, server.url
    server.stop()


@pytest.fixture(scope="module")
def meta() -> Iterator[tuple[Any, str]]:
    app = create_graph_api_stub()
    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


@pytest.fixture(scope="module")
def bedrock_deps(settings, stores, demo, model, own_redis) -> SupervisorDeps:
    redis = Redis.from_url(own_redis.url)
    agents = load_agents()
    index_bundled_knowledge(settings, redis, agents)
    return build_deps(settings, stores=stores, redis=redis, override="bedrock", agents=agents)


def channel(settings, stores, deps, meta_url: str, redis_url: str, **config: Any) -> Channel:
    return Channel(
        config=ChannelConfig(
            verify_token="test-verify",
            app_secret=SECRET,
            redis_url=redis_url,
            visibility_timeout_ms=5000,
            default_phone_number_id=NUMBER,
            **({"workers": 1, "burst_window_ms": 800} | config),
        ),
        stores=stores,
        accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
        deps_for=lambda folder: deps,
        sender=GraphApiClient(meta_url, attempts=4),
    )


@pytest.fixture(scope="module")
def api(settings, servers, bedrock_deps, model, meta, own_redis, tmp_path_factory) -> Iterator[str]:
    """`wam serve` as deployed (its own process, default concurrency settings) on this module's
    Redis, answering with the Bedrock provider through the Converse stub."""
    port = free_loopback_port()
    env = wam_env(
        settings,
        servers,
        tmp_path_factory.mktemp("serve"),
        REDIS_URL=own_redis.url,
        PORT=str(port),
        WHATSAPP_API_BASE_URL=meta[1],
        WHATSAPP_ACCESS_TOKEN="test-token",
        WHATSAPP_PHONE_NUMBER_ID=NUMBER,
        WHATSAPP_APP_SECRET=SECRET,
        VISIBILITY_TIMEOUT_SECONDS="5",
        MODEL_PROVIDER="bedrock",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=model[1],
    )
    with SERVE_LOG.open("wb") as log_file:
        process = subprocess.Popen(
            [*WAM, "serve"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), timeout=90, what="wam serve to be ready")
        meta[0].state.status_webhook = (url, SECRET)
        yield url
    finally:
        meta[0].state.status_webhook = None
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        SERVE_LOG.unlink(missing_ok=True)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


_CLIENT = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64))


def post(base: str, body: dict[str, Any]) -> httpx.Response:
    """A signed webhook POST through one shared client (a client per request would spend its time
    building TLS contexts, not posting)."""
    raw = json.dumps(body).encode()
    headers = {
        "content-type": "application/json",
        "x-hub-signature-256": signature_for(raw, SECRET),
    }
    return _CLIENT.post(f"{base}/webhook", content=raw, headers=headers)


def post_all(base: str, bodies: list[dict[str, Any]]) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda body: post(base, body).status_code, bodies))
    assert codes == [200] * len(bodies)


def replies_per_customer(meta_app: Any, customers: list[str]) -> Counter[str]:
    return Counter(m["to"] for m in meta_app.state.sent if m["to"] in set(customers))


def wait_for_replies(meta_app: Any, model_app: Any, customers: list[str], timeout: float) -> None:
    """Until every customer has a reply; on timeout, say who has none and what `wam serve` and
    the model server were doing."""
    try:
        wait_for(
            lambda: len(replies_per_customer(meta_app, customers)) == len(customers),
            timeout=timeout,
            what="every customer's reply",
        )
    except AssertionError:
        answered = replies_per_customer(meta_app, customers)
        lines = SERVE_LOG.read_text(errors="replace").splitlines()
        notable = [line for line in lines if "error" in line.lower() or "warn" in line.lower()]
        raise AssertionError(
            f"{len(customers) - len(answered)} of {len(customers)} customers have no reply "
            f"after {timeout} s; model calls in flight: {model_app.state.in_flight}\n"
            "wam serve's warnings and errors (last 30):\n"
            + "\n".join(notable[-30:])
            + "\nwam serve's last 30 lines:\n"
            + "\n".join(lines[-30:])
        ) from None


def test_customers_at_once_are_answered_concurrently(api, model, meta) -> None:
    converse, _ = model
    converse.state.latency_s = lambda: MODEL_SECONDS
    converse.state.max_in_flight = 0
    customers = [new_wa_id() for _ in range(40)]
    post_all(api, [payload(message(c, text={"body": "how much is premium?"})) for c in customers])
    wait_for_replies(meta[0], converse, customers, timeout=60)
    assert set(replies_per_customer(meta[0], customers).values()) == {1}
    # One at a time (the old worker) would show 1 in flight; a default thread pool, 6.
    assert converse.state.max_in_flight >= 0.8 * len(customers)
    assert not converse.state.rejections


def test_three_webhooks_within_the_window_get_one_reply(api, model, meta, stores) -> None:
    converse, _ = model
    converse.state.latency_s = lambda: MODEL_SECONDS
    customers = [new_wa_id() for _ in range(15)]

    def write(customer: str) -> list[int]:
        codes = []
        for text in ("hi", "I have a question", "how much is premium?"):
            codes.append(post(api, payload(message(customer, text={"body": text}))).status_code)
            time.sleep(0.3)
        return codes

    with ThreadPoolExecutor(max_workers=len(customers)) as pool:
        assert all(codes == [200] * 3 for codes in pool.map(write, customers))
    wait_for_replies(meta[0], converse, customers, timeout=60)
    time.sleep(MODEL_SECONDS + 1.0)  # a second turn, if any, would have answered by now
    assert set(replies_per_customer(meta[0], customers).values()) == {1}


def test_one_customers_slow_turn_does_not_delay_another(api, model, meta) -> None:
    converse, _ = model
    slow, quick = new_wa_id(), new_wa_id()
    delays = iter([6.0])
    converse.state.latency_s = lambda: next(delays, 0.2)
    post(api, payload(message(slow, text={"body": "how much is premium?"})))
    wait_for(lambda: converse.state.in_flight >= 1, what="the slow customer's model call")
    post(api, payload(message(quick, text={"body": "how much is premium?"})))
    wait_for(lambda: sent_to(meta[0], quick), timeout=30, what="the quick customer's reply")
    assert not sent_to(meta[0], slow), "the quick customer waited behind the slow one"
    wait_for(lambda: sent_to(meta[0], slow), timeout=30, what="the slow customer's reply")


def test_model_throttling_is_retried_without_losing_anyone(api, model, meta) -> None:
    converse, _ = model
    converse.state.latency_s = lambda: 0.3
    converse.state.throttle_rate = 0.3
    try:
        customers = [new_wa_id() for _ in range(20)]
        post_all(api, [payload(message(c, text={"body": "hola, precios?"})) for c in customers])
        wait_for_replies(meta[0], converse, customers, timeout=60)
    finally:
        converse.state.throttle_rate = 0.0
    assert set(replies_per_customer(meta[0], customers).values()) == {1}


PACED_SENDER = textwrap.dedent(
    """
    import asyncio, sys
    from redis.asyncio import Redis
    from server.pacing import SendPacer
    from server.whatsapp import GraphApiClient, text_payload

    async def main(redis_url, meta_url, count, rate):
        redis = Redis.from_url(redis_url)
        pacer, client = SendPacer(redis), GraphApiClient(meta_url, timeout=120)
        async def one(i):
            await pacer.take("100000000000099", rate)
            await client.send("100000000000099", "test-token", text_payload("1555000999", str(i)))
        await asyncio.gather(*(one(i) for i in range(count)))
        await redis.aclose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    """
)


def test_two_processes_together_stay_under_the_send_rate(own_redis, meta) -> None:
    app, url = meta
    before = len(app.state.sent)
    rate, per_process = 40.0, 60
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", PACED_SENDER, own_redis.url, url, str(per_process), str(rate)]
        )
        for _ in range(2)
    ]
    for sender in senders:
        assert sender.wait(timeout=60) == 0
    times = sorted(m["at"] for m in app.state.sent[before:] if m["to"] == "1555000999")
    assert len(times) == 2 * per_process
    # A full bucket (one second of sends) may go at once; after that, `rate` a second.
    for index, start in enumerate(times):
        in_window = sum(1 for t in times[index:] if t - start < 1.0)
        assert in_window <= 2 * rate + 2, f"{in_window} sends within one second"
    assert times[-1] - times[0] >= (2 * per_process - rate) / rate - 0.3


def test_status_callback_reconciles_a_send_that_was_interrupted(
    settings, stores, bedrock_deps, own_redis, meta, api
) -> None:
    """A process died after Meta took its reply but before recording it: Meta's status
    webhook (echoing biz_opaque_callback_data) tells the replay not to send again."""
    import asyncio

    from redis.asyncio import Redis as AsyncRedis

    from server.queue import InboundItem, Keys
    from server.replies import Reply

    app, url = meta
    wa_id = new_wa_id()
    inbound_id = f"wamid.in.{uuid.uuid4().hex}"

    async def scenario() -> None:
        redis = AsyncRedis.from_url(own_redis.url)
        from server.worker import Worker

        worker = Worker(
            redis=redis,
            queue=None,  # type: ignore[arg-type]
            accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
            graph_for=None,  # type: ignore[arg-type]
            sender=GraphApiClient(url),
            stores=stores,
        )
        account = worker.accounts.get(NUMBER)
        assert account is not None
        # The dead process's intent, and its send that reached Meta.
        await redis.set(Keys.sent(inbound_id), json.dumps({"state": "sending", "at": time.time()}))
        await worker.replies.send(account, wa_id, Reply("hello once"), tag=inbound_id)
        await asyncio.sleep(1.0)  # Meta's status webhook arrives
        item = InboundItem("1-0", inbound_id, NUMBER, wa_id, "text", "hi")
        await worker.replies.send_once(account, item, Reply("hello once"))
        await redis.aclose()

    asyncio.run(scenario())
    assert len(sent_to(app, wa_id)) == 1


def worker_process(settings, servers, tmp_path, redis_url: str, meta_url: str, model_url: str):
    env = wam_env(
        settings,
        servers,
        tmp_path,
        REDIS_URL=redis_url,
        WHATSAPP_API_BASE_URL=meta_url,
        WHATSAPP_ACCESS_TOKEN="test-token",
        WHATSAPP_PHONE_NUMBER_ID=NUMBER,
        WHATSAPP_APP_SECRET=SECRET,
        VISIBILITY_TIMEOUT_SECONDS="5",
        SHUTDOWN_GRACE_SECONDS="20",
        MODEL_PROVIDER="bedrock",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=model_url,
    )
    return start_worker(env)


@pytest.fixture
def webhook_only(settings, stores, bedrock_deps, meta, tmp_path) -> Iterator[tuple[str, str]]:
    """The webhook alone (no workers in the process) on a Redis of its own, so that only the
    `wam worker` processes consume its stream; Meta's status callbacks come back to it."""
    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start()
    server = BackgroundServer(
        create_app(channel(settings, stores, bedrock_deps, meta[1], redis.url, workers=0))
    )
    server.start()
    previous, meta[0].state.status_webhook = meta[0].state.status_webhook, (server.url, SECRET)
    yield server.url, redis.url
    meta[0].state.status_webhook = previous
    server.stop()
    redis.stop()


@pytest.mark.parametrize("how", ["kill", "sigterm"])
def test_a_worker_process_stopped_under_load_loses_and_duplicates_nothing(
    how, settings, servers, tmp_path, model, meta, webhook_only
) -> None:
    """`kill -9` (takeover after the visibility timeout) or SIGTERM (a graceful stop: turns in
    progress finish) of a `wam worker` while 30 customers wait: each gets exactly one reply."""
    converse, model_url = model
    # Spread out (1-4 s), so turns are still in progress when the first reply comes: on a loaded
    # machine a fixed latency let all 30 replies land between two looks at the stub.
    spread = random.Random(7)
    converse.state.latency_s = lambda: spread.uniform(1.0, 4.0)
    app, meta_url = meta
    webhook, redis_url = webhook_only
    first = worker_process(settings, servers, tmp_path, redis_url, meta_url, model_url)
    replacement = None
    customers = [new_wa_id() for _ in range(30)]
    try:
        time.sleep(4)  # the worker starts
        post_all(webhook, [payload(message(c, text={"body": "hi, prices?"})) for c in customers])
        wait_for(lambda: replies_per_customer(app, customers), timeout=60, what="a first reply")
        before = len(replies_per_customer(app, customers))
        if how == "kill":
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=40)
        else:
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=40) == 0
            # Turns in progress at the signal finished and were answered before it exited.
            assert len(replies_per_customer(app, customers)) > before
        replacement = worker_process(settings, servers, tmp_path, redis_url, meta_url, model_url)
        wait_for(
            lambda: len(replies_per_customer(app, customers)) == len(customers),
            timeout=90,
            what="every customer's reply",
        )
        time.sleep(2)
        assert set(replies_per_customer(app, customers).values()) == {1}
    finally:
        for process in (first, replacement):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
