"""Concurrency: many customers at once against `wam serve` (default settings) answering with a
Bedrock model that takes seconds.

`wam serve` runs as its own process with the Bedrock provider pointed
(`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`) at a local Converse-protocol stub that answers each call after
a fixed 1.5 s, or after a long-tailed delay around it (lognormal, median 1.5 s); replies go to a
local Graph API stub that stamps their arrival. N customers write at the same moment (N = 20, 100,
500), and in a burst scenario each customer sends three webhooks 300 ms apart.

Reported beside the ideal of the same run (model latency + burst window: what one customer alone
would wait): reply latency p50/p99, turns/s, the most model calls in flight, CPU seconds of the
`wam serve` process per turn, and Redis commands per turn.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from benchmarks.common import percentile, table, write_json
from checkpointers import EmbeddedRedis, free_loopback_port
from stubs import BackgroundServer, create_converse_stub, create_graph_api_stub

SECRET = "bench-secret"
NUMBER = "100000000000001"
MODEL_SECONDS = 1.5
BURST_WINDOW_S = 0.8  # the default BURST_WINDOW_MS


def _fixed() -> float:
    return MODEL_SECONDS


def _long_tail() -> float:
    return min(12.0, random.lognormvariate(0, 0.5) * MODEL_SECONDS)


def _webhook(wa_id: str, text: str) -> bytes:
    message = {
        "from": wa_id,
        "id": f"wamid.bench.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": NUMBER},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "bench", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def _signed(body: bytes) -> dict[str, str]:
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


class Serve:
    """`wam serve` with default settings on a Redis of the benchmark's own."""

    def __init__(self, data: Path, redis_url: str, model_url: str, meta_url: str) -> None:
        self.port = free_loopback_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WHATSAPP_"))}
        env.update(
            DATA_DIR=str(data),
            PORT=str(self.port),
            REDIS_URL=redis_url,
            MODEL_PROVIDER="bedrock",
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=model_url,
            WHATSAPP_API_BASE_URL=meta_url,
            WHATSAPP_APP_SECRET=SECRET,
            WHATSAPP_ACCESS_TOKEN="test-token",
            WHATSAPP_PHONE_NUMBER_ID=NUMBER,
            LOG_LEVEL="WARNING",
            LOG_FORMAT="json",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wam serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("wam serve did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()


RETRIED = Counter[str]()


async def _post(client: httpx.AsyncClient, url: str, body: bytes) -> None:
    """POST as Meta does: a 5xx or a dropped connection is retried (after a second here)."""
    for _ in range(10):
        try:
            response = await client.post(f"{url}/webhook", content=body, headers=_signed(body))
            if response.status_code < 500:
                response.raise_for_status()
                return
            RETRIED[str(response.status_code)] += 1
        except httpx.TransportError as error:
            RETRIED[type(error).__name__] += 1
        await asyncio.sleep(1.0)
    raise RuntimeError("the webhook refused a message ten times")


async def _post_all(url: str, bodies: list[bytes]) -> list[float]:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(body: bytes) -> float:
            sent = time.monotonic()
            await _post(client, url, body)
            return sent

        return await asyncio.gather(*(one(body) for body in bodies))


async def _bursts(url: str, customers: list[str]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:

        async def write(wa_id: str) -> None:
            for text in ("hi", "I have a question", "how much is premium?"):
                await _post(client, url, _webhook(wa_id, text))
                await asyncio.sleep(0.3)

        await asyncio.gather(*(write(c) for c in customers))


def _wait_replies(meta: Any, customers: list[str], timeout: float) -> dict[str, list[float]]:
    wanted = set(customers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got: dict[str, list[float]] = {}
        for message in list(meta.state.sent):
            if message["to"] in wanted:
                got.setdefault(message["to"], []).append(message["at"])
        if len(got) == len(wanted):
            return got
        time.sleep(0.05)
    raise RuntimeError(f"only {len(got)} of {len(wanted)} customers answered in {timeout} s")


def _scenario(
    serve: Serve, model: Any, meta: Any, redis: Redis, customers: int, latency: Callable[[], float]
) -> dict[str, Any]:
    model.state.latency_s = latency
    model.state.max_in_flight = 0
    RETRIED.clear()
    ids = [str(16_000_000_000 + random.randrange(10**9)) for _ in range(customers)]
    commands = int(redis.info("stats")["total_commands_processed"])
    cpu = _cpu_seconds(serve.process.pid)
    started = time.monotonic()
    sent_at = asyncio.run(_post_all(serve.url, [_webhook(c, "how much is premium?") for c in ids]))
    replies = _wait_replies(meta, ids, timeout=600)
    elapsed = time.monotonic() - started
    time.sleep(1.0)  # let status records settle before reading counters
    latencies = [min(replies[c]) - at for c, at in zip(ids, sent_at, strict=True)]
    return {
        "customers": customers,
        "p50_s": round(percentile(latencies, 0.5), 2),
        "p99_s": round(percentile(latencies, 0.99), 2),
        "turns_per_s": round(customers / elapsed, 1),
        "max_model_calls_in_flight": model.state.max_in_flight,
        "cpu_ms_per_turn": round((_cpu_seconds(serve.process.pid) - cpu) * 1000 / customers, 1),
        "redis_commands_per_turn": round(
            (int(redis.info("stats")["total_commands_processed"]) - commands) / customers, 1
        ),
        "replies_per_customer": sorted(Counter(len(v) for v in replies.values()).items()),
        "webhook_retries": dict(RETRIED),
    }


def _burst_scenario(serve: Serve, model: Any, meta: Any, customers: int) -> dict[str, Any]:
    model.state.latency_s = _fixed
    ids = [str(17_000_000_000 + random.randrange(10**9)) for _ in range(customers)]
    asyncio.run(_bursts(serve.url, ids))
    replies = _wait_replies(meta, ids, timeout=300)
    time.sleep(MODEL_SECONDS + 2)  # a second reply, if any, would have come by now
    counts = Counter(m["to"] for m in list(meta.state.sent) if m["to"] in set(ids))
    return {
        "customers": customers,
        "answered": len(replies),
        "with_one_reply": sum(1 for c in ids if counts[c] == 1),
        "with_more": sum(1 for c in ids if counts[c] > 1),
    }


def run(
    out: Path, sizes: tuple[int, ...] = (20, 100, 500), burst_customers: int = 20
) -> dict[str, Any]:
    model, meta = create_converse_stub(strict=True), create_graph_api_stub()
    model.state.text_only = True
    model_server, meta_server = BackgroundServer(model), BackgroundServer(meta)
    model_server.start()
    meta_server.start()
    with tempfile.TemporaryDirectory() as data:
        redis_server = EmbeddedRedis(Path(data) / "redis")
        redis_server.start()
        redis = Redis.from_url(redis_server.url)
        serve = Serve(Path(data), redis_server.url, model_server.url, meta_server.url)
        try:
            _scenario(serve, model, meta, redis, 5, _fixed)  # warm-up: graph compiled, KB ready
            alone = _scenario(serve, model, meta, redis, 1, _fixed)
            rows = []
            for name, latency in (("fixed 1.5 s", _fixed), ("long tail, median 1.5 s", _long_tail)):
                for size in sizes:
                    rows.append(
                        {"model": name, **_scenario(serve, model, meta, redis, size, latency)}
                    )
            bursts = _burst_scenario(serve, model, meta, burst_customers)
        finally:
            serve.stop()
            redis.close()
            redis_server.stop()
    model_server.stop()
    meta_server.stop()
    ideal = MODEL_SECONDS + BURST_WINDOW_S
    print(f"ideal (model {MODEL_SECONDS} s + burst window {BURST_WINDOW_S} s): {ideal:.1f} s;")
    print(f"one customer alone, measured: {alone['p50_s']} s")
    print(
        table(
            [
                "model",
                "customers",
                "p50 s",
                "p99 s",
                "p50-ideal",
                "p99-ideal",
                "turns/s",
                "calls in flight",
                "CPU ms/turn",
                "Redis cmds/turn",
                "webhook 5xx retried",
            ],
            [
                [
                    r["model"],
                    r["customers"],
                    r["p50_s"],
                    r["p99_s"],
                    round(r["p50_s"] - ideal, 2),
                    round(r["p99_s"] - ideal, 2),
                    r["turns_per_s"],
                    r["max_model_calls_in_flight"],
                    r["cpu_ms_per_turn"],
                    r["redis_commands_per_turn"],
                    sum(r["webhook_retries"].values()),
                ]
                for r in rows
            ],
        )
    )
    print(
        f"bursts (3 webhooks 300 ms apart): {bursts['customers']} customers, "
        f"{bursts['with_one_reply']} got one reply, {bursts['with_more']} more than one"
    )
    result = {"ideal_s": ideal, "alone": alone, "rows": rows, "bursts": bursts}
    write_json("concurrency", result, out)
    return result


if __name__ == "__main__":
    sizes = tuple(int(n) for n in sys.argv[2:]) or (20, 100, 500)
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"), sizes)
