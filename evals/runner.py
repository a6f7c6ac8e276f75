"""Runs eval datasets through the real supervisor graph and scores every turn.

Conversations of one customer run in order (service actions change the customer record, so order
matters), different customers run concurrently. Demo customers are re-seeded first, so a run is
reproducible: its seed, the agents' config hash and the dataset hash are recorded with the results.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from agents import AgentContext
from evals.dataset import (
    Conversation,
    Turn,
    dataset_hash,
    expand,
    load_dataset,
    select,
    split_of,
)
from evals.evaluators import EvalResult, evaluate_turn
from graph import SupervisorGraph, TurnResult, run_turn, thread_id_for
from stores import Stores, demo_customers, seed_demo

log = structlog.get_logger(__name__)


@dataclass
class RunOptions:
    datasets: list[str] = field(default_factory=lambda: ["single_turn", "conversations"])
    tags: list[str] = field(default_factory=list)
    limit: int | None = None
    concurrency: int = 4
    seed: int = 7
    context: AgentContext = field(default_factory=AgentContext)
    judge: BaseChatModel | None = None


def config_hash(folder: Path) -> str:
    """Hash of every file of an agents folder: two runs with one hash ran the same configs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


JUDGE_PROMPT = (
    "You grade a customer-service answer. Question: {question}\nFacts a correct answer contains: "
    "{facts}\nAnswer: {answer}\nReply with one number between 0 and 1: how correct and complete "
    "the answer is. Nothing else."
)


async def _judge(judge: BaseChatModel, turn: Turn, result: TurnResult) -> EvalResult | None:
    if not turn.required_facts and not turn.refusal:
        return None
    facts = ", ".join(turn.required_facts) or "(none: the right answer admits it cannot help)"
    reply = await judge.ainvoke(
        [HumanMessage(JUDGE_PROMPT.format(question=turn.input, facts=facts, answer=result.reply))]
    )
    text = str(reply.content).strip()
    try:
        score = min(1.0, max(0.0, float(text.split()[0])))
    except (ValueError, IndexError):
        return {"key": "llm_judge_correctness", "score": 0.0, "comment": f"unparsable: {text!r}"}
    return {"key": "llm_judge_correctness", "score": score, "comment": "LLM judge"}


async def run_evals(
    graph: SupervisorGraph, stores: Stores, options: RunOptions, agents_folder: Path
) -> dict[str, Any]:
    conversations: list[Conversation] = []
    splits: dict[str, str] = {}
    for name in expand(options.datasets):
        loaded = load_dataset(name)
        conversations += loaded
        splits |= dict.fromkeys((c.id for c in loaded), split_of(name))
    chosen = select(conversations, options.tags, options.limit)
    seed_demo(stores.customers)
    # Each conversation of a demo customer starts from the seeded record: a change another case
    # confirmed (a volume, a room) must not decide this one's answer, whatever the run's order.
    seeded = {customer.phone: customer for customer in demo_customers()}
    rng = random.Random(options.seed)
    run_id = uuid.uuid4().hex[:10]
    unknown_numbers = {c.id: str(19_000_000_000 + rng.randrange(10**9)) for c in chosen}
    by_customer: dict[str, list[tuple[int, Conversation]]] = defaultdict(list)
    for index, conversation in enumerate(chosen):
        by_customer[conversation.customer or f"unknown:{conversation.id}"].append(
            (index, conversation)
        )
    account = getattr(stores.customers, "default_account", None) or f"eval-{run_id}"
    semaphore = asyncio.Semaphore(options.concurrency)
    records: list[dict[str, Any]] = []

    async def run_group(group: list[tuple[int, Conversation]]) -> None:
        async with semaphore:
            for _, conversation in group:
                wa_id = (conversation.customer or "").lstrip("+") or unknown_numbers[
                    conversation.id
                ]
                # The business account that owns the demo customers (tenancy); each conversation
                # starts on a fresh thread.
                number = account
                await _fresh_thread(graph, thread_id_for(number, wa_id))
                if conversation.customer in seeded:
                    await asyncio.to_thread(
                        stores.customers.put_customer, seeded[conversation.customer]
                    )
                for position, turn in enumerate(conversation.turns):
                    language = turn.language or conversation.language
                    started = time.perf_counter()
                    try:
                        result = await run_turn(
                            graph,
                            phone_number_id=number,
                            wa_id=wa_id,
                            texts=[turn.input],
                            context=options.context,
                        )
                        error = None
                    except Exception as failure:
                        log.error("eval turn failed", case=conversation.id, error=repr(failure))
                        result = TurnResult("", None, [], [], [], False, None, language, None, {})
                        error = repr(failure)[:300]
                    latency = (time.perf_counter() - started) * 1000
                    scores = evaluate_turn(turn, result, language)
                    if options.judge is not None:
                        judged = await _judge(options.judge, turn, result)
                        if judged:
                            scores.append(judged)
                    record = _record(conversation, position, turn, result, scores, latency, error)
                    records.append(record | {"split": splits.get(conversation.id, "other")})

    await asyncio.gather(*(run_group(group) for group in by_customer.values()))
    records.sort(key=lambda r: (r["id"], r["turn"]))
    return summarize(records, options, agents_folder, run_id)


async def _fresh_thread(graph: SupervisorGraph, thread_id: str) -> None:
    """Forget an earlier case's checkpoints on this thread (same customer, same account)."""
    saver = getattr(graph, "checkpointer", None)
    if saver is not None and hasattr(saver, "adelete_thread"):
        await saver.adelete_thread(thread_id)


def _record(
    conversation: Conversation,
    position: int,
    turn: Turn,
    result: TurnResult,
    scores: list[EvalResult],
    latency: float,
    error: str | None,
) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "turn": position,
        "language": turn.language or conversation.language,
        "difficulty": conversation.difficulty,
        "tags": conversation.tags,
        "customer": conversation.customer,
        "input": turn.input,
        "expected_agent": turn.agent,
        "agent": result.agent_id,
        "reply": result.reply,
        "tool_calls": result.tool_calls,
        "tool_outputs": [output[:600] for output in result.tool_outputs],
        "scores": {s["key"]: s["score"] for s in scores},
        "comments": {s["key"]: s["comment"] for s in scores},
        "latency_ms": round(latency, 2),
        "error": error,
        "passed": error is None and all(s["score"] >= 1.0 for s in scores),
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _aggregate(records: list[dict[str, Any]]) -> dict[str, float | None]:
    keys = sorted({k for r in records for k in r["scores"]})
    return {k: _mean([r["scores"][k] for r in records if k in r["scores"]]) for k in keys}


def _split_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One split's metrics overall, per language, per agent, and single vs conversation turns."""
    by: dict[str, dict[str, list[dict[str, Any]]]] = {
        "language": defaultdict(list),
        "agent": defaultdict(list),
        "kind": defaultdict(list),
    }
    sizes: dict[str, int] = defaultdict(int)
    for record in records:
        sizes[record["id"]] += 1
    for record in records:
        by["language"][record["language"]].append(record)
        by["agent"][record["expected_agent"]].append(record)
        kind = "single" if sizes[record["id"]] == 1 else "conversation"
        by["kind"][kind].append(record)
        by["kind"][f"{kind}:{record['language']}"].append(record)
    return {
        "turns": len(records),
        "metrics": _aggregate(records),
        **{
            f"by_{name}": {k: _aggregate(v) | {"turns": len(v)} for k, v in sorted(rows.items())}
            for name, rows in by.items()
        },
    }


def summarize(
    records: list[dict[str, Any]], options: RunOptions, agents_folder: Path, run_id: str
) -> dict[str, Any]:
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {
        "agent": defaultdict(list),
        "language": defaultdict(list),
        "split": defaultdict(list),
    }
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        groups["agent"][record["expected_agent"]].append(record)
        groups["language"][record["language"]].append(record)
        groups["split"][record.get("split", "other")].append(record)
        confusion[record["expected_agent"]][record["agent"] or "none"] += 1
    latencies = sorted(r["latency_ms"] for r in records)

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return {
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(),
        "seed": options.seed,
        "datasets": options.datasets,
        "tags": options.tags,
        "dataset_hash": dataset_hash(expand(options.datasets)),
        "config_hash": config_hash(agents_folder),
        "agents_dir": str(agents_folder),
        "context": {k: v for k, v in vars(options.context).items() if v is not None},
        "langsmith": bool(os.environ.get("LANGSMITH_API_KEY")),
        "cases": len({r["id"] for r in records}),
        "turns": len(records),
        "metrics": _aggregate(records),
        "by_agent": {
            k: _aggregate(v) | {"turns": len(v)} for k, v in sorted(groups["agent"].items())
        },
        "by_language": {
            k: _aggregate(v) | {"turns": len(v)} for k, v in sorted(groups["language"].items())
        },
        "by_split": {
            split: _split_summary(rows) for split, rows in sorted(groups["split"].items())
        },
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "latency_ms": {
            "p50": percentile(0.5),
            "p90": percentile(0.9),
            "p99": percentile(0.99),
            "mean": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        },
        "records": records,
    }
