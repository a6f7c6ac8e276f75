"""Routing: the local router (embeddings + TF-IDF) beside the lexical baseline, in one run.

Every input of the eval datasets (dev and held-out test) is routed `repeats` times by each router,
warm (the models and profiles are loaded before timing; a message's first sight is what is timed,
so the encoder's cache of seen texts is cleared between repeats). Also: accuracy of each router on
the same inputs, and how long building each router takes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agents import load_agents
from benchmarks.common import summary_ms, table, write_json
from evals.dataset import SPLITS, load_dataset
from graph import LexicalRouter, LocalRouter
from tools.phatic import read_message


def _inputs() -> list[tuple[str, str]]:
    """(text, expected agent) of every turn of every dataset (context-free: first turns only
    carry no active agent, so accuracy here is per message, not per conversation)."""
    return [
        (turn.input, turn.agent)
        for names in SPLITS.values()
        for name in names
        for conversation in load_dataset(name)
        for turn in conversation.turns
    ]


def _time(router: LocalRouter | LexicalRouter, inputs: list[tuple[str, str]], repeats: int) -> Any:
    latencies: list[float] = []
    right = 0
    encoder = getattr(getattr(router, "semantic", None), "encoder", None)
    for repeat in range(repeats):
        cache = getattr(encoder, "_cache", None)
        if isinstance(cache, dict):
            cache.clear()
        speller = getattr(router, "speller", None)
        repairs = getattr(speller, "_repairs", None)
        if isinstance(repairs, dict):
            repairs.clear()  # typo repairs are cached too: every repeat pays for them
        read_message.cache_clear()  # and so are readings of a message (phatic phrases, small talk)
        for text, agent in inputs:
            started = time.perf_counter()
            decision = router.route(text)
            latencies.append(time.perf_counter() - started)
            right += repeat == 0 and decision.agent_id == agent
    return summary_ms(latencies) | {"accuracy": round(right / len(inputs), 4)}


def run(out: Path, repeats: int = 3, limit: int | None = None) -> dict[str, Any]:
    agents = load_agents()
    inputs = _inputs()[:limit] if limit else _inputs()
    started = time.perf_counter()
    lexical = LexicalRouter(agents)
    build_lexical = time.perf_counter() - started
    started = time.perf_counter()
    local = LocalRouter(agents)
    build_local = time.perf_counter() - started
    results: dict[str, Any] = {
        "inputs": len(inputs),
        "repeats": repeats,
        "encoder": local.semantic.encoder.name if local.semantic else None,
        "routers": {
            "lexical (baseline)": _time(lexical, inputs, repeats) | {"build_s": build_lexical},
            "local (embeddings + lexical)": _time(local, inputs, repeats)
            | {"build_s": build_local},
        },
    }
    rows = [
        [name, r["p50"], r["p90"], r["p99"], r["mean"], r["accuracy"], round(r["build_s"], 2)]
        for name, r in results["routers"].items()
    ]
    print(table(["router", "p50 ms", "p90 ms", "p99 ms", "mean ms", "accuracy", "build s"], rows))
    write_json("routing", results, out)
    return results


if __name__ == "__main__":
    import sys

    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"))
