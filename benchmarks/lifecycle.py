"""Lifecycle: the daily export, the daily analytics and a person's erasure, each beside a baseline.

One day of `messages` logged messages over `users` customers, in the embedded stack (moto server
over HTTP for DynamoDB and S3, valkey with modules for Redis):

- export: `wam export conversations` (filtered Scan, Parquet, upload) beside the bare Scan.
- analytics: DuckDB's statements over the day's Parquet beside the same totals summed in Python.
- erasure: the whole erasure of one person (Redis, DynamoDB with guards and aliases, S3, exports),
  with and without the safety-net scan of the table, beside the DynamoDB-only
  `ConversationStore.delete_user` it replaces, on customers with the same number of messages.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from redis.asyncio import Redis as AsyncRedis

from app.localstack import ENDPOINT_VARIABLES, EmbeddedAWS
from benchmarks.common import summary_ms, table, write_json
from checkpointers import EmbeddedRedis, async_redis_saver
from server.gdpr import PersonalDataService
from stores import Stores, aws_client, ensure_bucket
from stores.analytics import compute_daily
from stores.codec import to_item
from stores.erasure import PersonalData
from stores.export import day_items, export_conversations, read_export

DAY = date(2024, 1, 15)
BUCKET = "bench-lifecycle"
PREFIX = "bench-"


def _seed(stores: Stores, messages: int, users: int) -> list[str]:
    """`messages` items (half inbound, half replies) over `users` customers, with guards."""
    numbers = [str(15_800_000_000 + n) for n in range(users)]
    requests: list[dict[str, Any]] = []
    for n in range(messages):
        wa_id = numbers[n % users]
        message_id = f"wamid.bench.{uuid.uuid4().hex}"
        timestamp = f"2024-01-15T{n % 24:02d}:{n % 60:02d}:00.{n % 1000:03d}Z"
        item = {
            "user_id": f"whatsapp:+{wa_id}",
            "timestamp": timestamp,
            "session_id": f"s-{wa_id}",
            "message_id": message_id,
            "direction": "inbound" if n % 2 == 0 else "outbound",
            "role": "user" if n % 2 == 0 else "assistant",
            "message_type": "text",
            "content": f"message {n}",
            "agent_id": ["sales", "billing", "device_support", "general"][n % 4],
            "processing_time_ms": 200 + n % 5000,
            "confidence_score": 0.5 + (n % 50) / 100,
            "escalation_triggered": n % 97 == 0,
            "metadata": {"language": "es" if n % 3 else "en", "intent": f"topic{n % 12}"},
            "business_account_id": "100000000000001",
        }
        guard = {
            "user_id": f"msgid#{message_id}",
            "timestamp": "guard",
            "item_user_id": item["user_id"],
            "item_timestamp": timestamp,
        }
        requests += [{"PutRequest": {"Item": to_item(r)}} for r in (item, guard)]
    table_name = f"{PREFIX}conversations"
    for start in range(0, len(requests), 25):
        batch: dict[str, Any] = {table_name: requests[start : start + 25]}
        while batch:
            batch = stores.dynamodb.batch_write_item(RequestItems=batch).get("UnprocessedItems")
    return numbers


def _python_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The baseline: the headline figures summed in Python over the same rows."""
    messages = [r for r in rows if r["direction"] in ("inbound", "outbound")]
    replies = [r for r in messages if r["role"] == "assistant"]
    latency = [r["processing_time_ms"] for r in replies if r["processing_time_ms"] is not None]
    return {
        "total_messages": len(messages),
        "unique_users": len({r["user_id"] for r in messages}),
        "avg_processing_time_ms": sum(latency) / len(latency) if latency else None,
        "per_agent": Counter(r["agent_id"] for r in messages),
    }


def _timed(action: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


async def _erasures(
    stores: Stores, redis_url: str, people: list[str], *, scan: bool
) -> list[float]:
    redis = AsyncRedis.from_url(redis_url)
    s3 = aws_client("s3", "us-east-1")
    service = PersonalDataService(
        redis=redis,
        data=PersonalData(stores.dynamodb, s3, BUCKET, PREFIX, scan_guards=scan),
        open_saver=lambda: async_redis_saver(redis_url, 30),
        accounts=["100000000000001"],
    )
    samples = []
    try:
        for wa_id in people:
            started = time.perf_counter()
            await service.erase(wa_id)
            samples.append(time.perf_counter() - started)
    finally:
        await redis.aclose()
    return samples


def _measure(stores: Stores, redis_url: str, messages: int, users: int) -> dict[str, Any]:
    numbers = _seed(stores, messages, users)
    s3 = aws_client("s3", "us-east-1")
    table_name = f"{PREFIX}conversations"
    results: dict[str, Any] = {}
    results["scan only (baseline)"] = summary_ms(
        _timed(lambda: day_items(stores.dynamodb, table_name, DAY), 3)
    )
    results["export (scan + Parquet + upload)"] = summary_ms(
        _timed(
            lambda: export_conversations(
                stores.dynamodb, s3, table=table_name, bucket=BUCKET, day=DAY
            ),
            3,
        )
    )
    arrow = read_export(s3, BUCKET, DAY)
    rows = arrow.to_pylist()
    results["totals in Python (baseline)"] = summary_ms(_timed(lambda: _python_totals(rows), 5))
    results["analytics (DuckDB, every figure)"] = summary_ms(
        _timed(lambda: compute_daily(arrow, DAY), 5)
    )
    results["delete_user, DynamoDB only (baseline)"] = summary_ms(
        _timed(lambda: stores.conversations.delete_user(f"whatsapp:+{numbers.pop()}"), 5)
    )
    for scan, name in ((True, "erasure, every store"), (False, "erasure, --no-scan")):
        people = [numbers.pop() for _ in range(5)]
        samples = asyncio.run(_erasures(stores, redis_url, people, scan=scan))
        results[name] = summary_ms(samples)
    return results


def run(out: Path, messages: int = 4000, users: int = 100) -> dict[str, Any]:
    credentials = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    saved = {name: os.environ.get(name) for name in (*ENDPOINT_VARIABLES, *credentials)}
    with tempfile.TemporaryDirectory() as data:
        aws = EmbeddedAWS(Path(data) / "logs")
        aws.start()
        try:
            os.environ.update({name: aws.url for name in ENDPOINT_VARIABLES})
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
            with EmbeddedRedis(Path(data)) as redis:
                stores = Stores.connect("us-east-1", PREFIX)
                stores.init_tables()
                ensure_bucket(aws_client("s3", "us-east-1"), BUCKET, "us-east-1")
                results = _measure(stores, redis.url, messages, users)
        finally:
            aws.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    per_person = messages // users
    print(f"{messages} messages over {users} customers ({per_person} each), one day")
    print(
        table(
            ["step", "p50 ms", "p90 ms", "n"],
            [[name, r["p50"], r["p90"], r["n"]] for name, r in results.items()],
        )
    )
    report = {"messages": messages, "users": users, "results": results}
    write_json("lifecycle", report, out)
    return report


if __name__ == "__main__":
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"))
