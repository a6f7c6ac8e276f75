"""Turn: one full turn (dequeue, supervisor graph with the offline model, Redis checkpoint,
DynamoDB log, outbound send to a local Graph API stub) beside the same graph compiled with
`InMemorySaver` and no logging, called directly. Time is broken down by stage; a 200-turn
conversation shows whether per-turn cost stays flat.

Stages are timed by wrapping the real calls (checkpointer, conversation store, sender, model,
KB retrieval) of this process's objects; nothing is replaced.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from agents import OfflineChatModel, load_agents
from app.localstack import LocalStack
from app.runtime import prepare_data
from app.settings import load_settings
from app.wiring import build_deps, demo_billing_api, index_bundled_knowledge
from benchmarks.common import summary_ms, table, write_json
from checkpointers import async_redis_saver
from graph import SupervisorDeps, compile_supervisor, run_turn
from server import AccountRegistry, GraphApiClient
from server.queue import InboundQueue, queue_fields
from server.scheduler import SchedulerSettings
from server.worker import Worker
from stores import Stores
from stubs.graph_api import create_graph_api_stub
from tools import LocalKnowledgeBase
from tools.billing_demo import BackgroundServer

NUMBER = "100000000000001"
TEXTS = [
    "How much is the premium plan?",
    "Is my speaker online?",
    "Show me my last invoice",
    "What are your opening hours?",
    "¿Cuánto cuesta el plan premium?",
    "Set the volume of my speaker to 40",
    "My speaker keeps disconnecting from the wifi",
    "thanks!",
]


class Stages:
    """Seconds spent in each stage during the current turn."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.turns: list[dict[str, float]] = []

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original: Callable[..., Awaitable[Any]] = getattr(owner, name)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.current[stage] += time.perf_counter() - started

        setattr(owner, name, timed)

    def end_turn(self, total: float) -> None:
        accounted = sum(self.current.values())
        self.turns.append({**self.current, "total": total, "other": total - accounted})
        self.current = defaultdict(float)


def _instrument(stages: Stages, saver: Any, stores: Stores, sender: Any) -> None:
    for name in ("aget_tuple", "aput", "aput_writes"):
        stages.wrap(saver, name, "checkpoint")
    stages.wrap(stores.conversations, "aappend", "dynamodb_log")
    stages.wrap(stores.conversations, "arecent_history", "dynamodb_context")
    stages.wrap(stores.customers, "afind_by_phone", "dynamodb_context")
    stages.wrap(sender, "send", "send")
    stages.wrap(sender, "mark_read", "send")
    stages.wrap(LocalKnowledgeBase, "aretrieve", "kb_retrieval")
    stages.wrap(OfflineChatModel, "_agenerate", "model")


async def _full_path(
    deps: SupervisorDeps,
    stores: Stores,
    redis_url: str,
    stub_url: str,
    turns: list[tuple[str, str]],
    stages: Stages,
) -> list[float]:
    redis = AsyncRedis.from_url(redis_url)
    queue = InboundQueue(redis, stream="bench:inbound")
    await queue.ensure_group()
    sender = GraphApiClient(stub_url)
    async with async_redis_saver(redis_url, 30) as saver:
        graph = compile_supervisor(deps, saver)

        async def graph_for(account: Any) -> Any:
            return graph

        worker = Worker(
            redis=redis,
            queue=queue,
            accounts=AccountRegistry.load(NUMBER, "test-token", None, None),
            graph_for=graph_for,
            sender=sender,
            stores=stores,
            settings=SchedulerSettings(burst_window_ms=0),
        )
        _instrument(stages, saver, stores, sender)
        totals = []
        for index, (wa_id, text) in enumerate(turns):
            await queue.enqueue_once(
                f"wamid.bench.{time.time_ns()}.{index}",
                queue_fields(
                    message_id=f"wamid.bench.{time.time_ns()}.{index}",
                    phone_number_id=NUMBER,
                    wa_id=wa_id,
                    type="text",
                    text=text,
                ),
            )
            started = time.perf_counter()
            await worker.scheduler.mail(await queue.read(worker.name, count=1, block_ms=100))
            await worker.scheduler.idle()
            total = time.perf_counter() - started
            stages.end_turn(total)
            totals.append(total)
    await sender.aclose()
    await redis.aclose()
    return totals


async def _baseline(deps: SupervisorDeps, turns: list[tuple[str, str]]) -> list[float]:
    graph = compile_supervisor(deps, InMemorySaver())
    totals = []
    for wa_id, text in turns:
        started = time.perf_counter()
        await run_turn(graph, phone_number_id=NUMBER, wa_id=wa_id, texts=[text])
        totals.append(time.perf_counter() - started)
    return totals


def _flatness(totals: list[float]) -> dict[str, float]:
    """Median of turns 10-29 against the last 20: one slow request cannot tip it."""
    early = statistics.median(totals[10:30]) * 1000
    late = statistics.median(totals[-20:]) * 1000
    return {
        "turn_20_ms": round(early, 3),
        "turn_200_ms": round(late, 3),
        "ratio": round(late / early, 3) if early else 0.0,
    }


def _stage_flatness(stages: Stages) -> dict[str, dict[str, float]]:
    names = sorted({k for turn in stages.turns for k in turn})
    return {
        name: _flatness([turn.get(name, 0.0) for turn in stages.turns])
        for name in names
        if statistics.median(turn.get(name, 0.0) for turn in stages.turns) > 0
    }


def run(out: Path, turns_count: int = 300, long_conversation: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(
            data_dir=Path(data), table_prefix="bench-", log_level="WARNING", _env_file=None
        )
        with LocalStack(settings) as stack, demo_billing_api():
            settings = stack.settings
            assert settings.redis_url
            stores = Stores.connect(
                settings.aws_region, settings.table_prefix, default_account=NUMBER
            )
            prepare_data(settings, stores, seed=True)
            redis = Redis.from_url(settings.redis_url)
            agents = load_agents()
            index_bundled_knowledge(settings, redis, agents)
            full = build_deps(
                settings, stores=stores, redis=redis, override="offline", agents=agents
            )
            bare = replace(full, conversations=None)  # same agents and tools, no conversation log
            stub = BackgroundServer(create_graph_api_stub())
            stub.start()
            mixed = [(f"1555{7000 + i % 30}", TEXTS[i % len(TEXTS)]) for i in range(turns_count)]
            stages = Stages()
            full_totals = asyncio.run(
                _full_path(full, stores, settings.redis_url, stub.url, mixed, stages)
            )
            base_totals = asyncio.run(_baseline(bare, mixed))
            long_turns = [("15559999", TEXTS[i % len(TEXTS)]) for i in range(long_conversation)]
            long_stages = Stages()
            long_full = asyncio.run(
                _full_path(full, stores, settings.redis_url, stub.url, long_turns, long_stages)
            )
            long_base = asyncio.run(_baseline(bare, [("15559998", t) for _, t in long_turns]))
            stub.stop()
    breakdown = {
        stage: round(statistics.median(t.get(stage, 0.0) for t in stages.turns) * 1000, 3)
        for stage in (
            "checkpoint",
            "dynamodb_log",
            "dynamodb_context",
            "kb_retrieval",
            "model",
            "send",
            "other",
            "total",
        )
    }
    overhead = [t["total"] - t.get("model", 0.0) for t in stages.turns]
    results = {
        "turns": turns_count,
        "full": {
            "latency_ms": summary_ms(full_totals),
            "turns_per_s": round(len(full_totals) / sum(full_totals), 1),
            "overhead_ms": summary_ms(overhead),
            "stages_p50_ms": breakdown,
        },
        "baseline_inmemory_no_log": {
            "latency_ms": summary_ms(base_totals),
            "turns_per_s": round(len(base_totals) / sum(base_totals), 1),
        },
        "long_conversation": {"full": _flatness(long_full), "baseline": _flatness(long_base)},
        "long_conversation_stages": _stage_flatness(long_stages),
    }
    full_p50 = results["full"]["latency_ms"]["p50"]
    base_p50 = results["baseline_inmemory_no_log"]["latency_ms"]["p50"]
    print(f"turn: {turns_count} turns over 30 users, offline model, burst window 0")
    print(
        table(
            ["path", "p50 ms", "p99 ms", "turns/s", "overhead p50 ms", "x baseline p50"],
            [
                [
                    "full (queue, Redis saver, DynamoDB log, send)",
                    f"{full_p50:.2f}",
                    f"{results['full']['latency_ms']['p99']:.2f}",
                    results["full"]["turns_per_s"],
                    f"{results['full']['overhead_ms']['p50']:.2f}",
                    f"{full_p50 / base_p50:.2f}",
                ],
                [
                    "baseline (InMemorySaver, no log, direct)",
                    f"{base_p50:.2f}",
                    f"{results['baseline_inmemory_no_log']['latency_ms']['p99']:.2f}",
                    results["baseline_inmemory_no_log"]["turns_per_s"],
                    "-",
                    "1.00",
                ],
            ],
        )
    )
    print(
        "\nfull path, median per stage (ms): "
        + ", ".join(f"{k} {v:.2f}" for k, v in breakdown.items())
    )
    flat = results["long_conversation"]
    print(
        table(
            ["200-turn conversation", "turn 20 ms", "turn 200 ms", "ratio"],
            [
                [name, row["turn_20_ms"], row["turn_200_ms"], row["ratio"]]
                for name, row in flat.items()
            ],
        )
    )
    print(
        "200-turn conversation by stage (turn 20 -> turn 200, ms): "
        + ", ".join(
            f"{k} {v['turn_20_ms']:.2f}->{v['turn_200_ms']:.2f}"
            for k, v in results["long_conversation_stages"].items()
        )
    )
    print(f"wrote {write_json('turn', results, out)}")
    return results


if __name__ == "__main__":
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"))
