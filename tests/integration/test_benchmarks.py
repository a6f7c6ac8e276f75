"""The benchmarks still run (small sizes): their numbers are for `make bench`, not for tests."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from benchmarks import checkpoint, concurrency
from benchmarks.bare_app import app
from benchmarks.loadgen import run as load
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


def test_checkpoint_benchmark_measures_all_three_savers(tmp_path) -> None:
    results = checkpoint.run(
        tmp_path, threads=2, turns=3, sessions=5, memory_sessions=2, memory_turns=3
    )
    assert set(results["per_turn"]) == {
        "InMemorySaver",
        "SqliteSaver (file)",
        "RedisSaver (TTL, refresh on read)",
    }
    assert results["redis_memory"]["per_session_bytes"] > 0
    idle = results["redis_memory"]["per_idle_session_bytes"]
    assert set(idle) == {"stock", "ours"} and set(idle["ours"]) == {"1", "3"}
    written = json.loads((tmp_path / "checkpoint.json").read_text())
    assert written["benchmark"] == "checkpoint" and written["machine"]["cpus"]


def test_load_generator_speaks_http_keep_alive() -> None:
    server = BackgroundServer(app)
    server.start()
    try:
        fixed = asyncio.run(load(f"{server.url}/webhook", 100, 4, 0.5, "s", "1"))
        saturated = asyncio.run(load(f"{server.url}/webhook", 0, 4, 0.5, "s", "1"))
    finally:
        server.stop()
    assert fixed["statuses"] == {"200": 50}
    assert saturated["statuses"].keys() == {"200"} and saturated["accepted_per_s"] > 100


def test_routing_benchmark_times_both_routers(tmp_path) -> None:
    from benchmarks import routing

    results = routing.run(tmp_path, repeats=1, limit=20)
    assert set(results["routers"]) == {"lexical (baseline)", "local (embeddings + lexical)"}
    assert all(r["n"] == 20 and r["p50"] > 0 for r in results["routers"].values())
    assert json.loads((tmp_path / "routing.json").read_text())["benchmark"] == "routing"


@pytest.mark.skipif(
    not os.environ.get("SOAK"),
    reason="a minute of `wam serve` under load: `make soak` runs it (test_concurrency.py covers "
    "the same paths in `make test`)",
)
def test_concurrency_benchmark_reports_latency_beside_the_ideal(tmp_path) -> None:
    results = concurrency.run(tmp_path, sizes=(4,), burst_customers=2)
    assert results["ideal_s"] == 2.3 and results["alone"]["customers"] == 1
    assert [row["customers"] for row in results["rows"]] == [4, 4]
    assert all(row["replies_per_customer"] == [(1, 4)] for row in results["rows"])
    assert results["bursts"] == {"customers": 2, "answered": 2, "with_one_reply": 2, "with_more": 0}
