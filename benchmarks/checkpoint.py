"""Checkpoint: the Redis checkpointer's read + write per turn beside `InMemorySaver` and the SQLite
saver, on the same small graph (messages trimmed to a window, as the supervisor keeps them), and
the Redis memory one active session costs.

Each turn is one `invoke` with `durability="exit"`: one read of the thread's latest checkpoint and
one write, as the server runs them.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from redis import Redis

from benchmarks.common import summary_ms, table, write_json
from checkpointers import EmbeddedRedis, redis_saver

WINDOW = 10


def _graph() -> StateGraph[MessagesState]:
    def answer(state: MessagesState) -> dict[str, Any]:
        reply = AIMessage(f"Answer {len(state['messages'])}: the premium plan costs $29.99.")
        old = state["messages"][:-WINDOW] if len(state["messages"]) > WINDOW else []
        return {"messages": [reply, *(RemoveMessage(id=str(m.id)) for m in old)]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder


def _full_history_graph() -> StateGraph[MessagesState]:
    """Stock usage: every message stays in the state."""

    def answer(state: MessagesState) -> dict[str, Any]:
        reply = AIMessage(f"Answer {len(state['messages'])}: the premium plan costs $29.99.")
        return {"messages": [reply]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder


def _memory_per_session(*, ours: bool, sessions: int, marks: tuple[int, ...]) -> dict[int, float]:
    """Redis bytes per idle session after each of `marks` turns, on a fresh server. `ours`: the
    window of messages and the pruning of older checkpoints after each turn, as the server runs;
    otherwise the stock usage (full history, every checkpoint kept until the TTL)."""
    found: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as data, EmbeddedRedis(Path(data)) as server:
        client = Redis.from_url(server.url)
        with redis_saver(server.url, ttl_minutes=30) as saver:
            before = int(client.info("memory")["used_memory"])
            graph = (_graph() if ours else _full_history_graph()).compile(checkpointer=saver)
            for turn in range(1, max(marks) + 1):
                for session in range(sessions):
                    thread = f"300:{session}"
                    graph.invoke(
                        {"messages": [HumanMessage(f"How much is premium? ({turn})")]},
                        {"configurable": {"thread_id": thread}},
                        durability="exit",
                    )
                    if ours:
                        saver.prune([thread], strategy="keep_latest")
                if turn in marks:
                    used = int(client.info("memory")["used_memory"])
                    found[turn] = (used - before) / sessions
        client.close()
    return found


def _turns(saver: Any, threads: int, turns: int) -> list[float]:
    graph = _graph().compile(checkpointer=saver)
    timings = []
    for turn in range(turns):
        for thread in range(threads):
            config = {"configurable": {"thread_id": f"100:{thread}"}}
            started = time.perf_counter()
            graph.invoke(
                {"messages": [HumanMessage(f"How much is premium? ({turn})")]},
                config,
                durability="exit",
            )
            timings.append(time.perf_counter() - started)
    return timings


def run(
    out: Path,
    threads: int = 20,
    turns: int = 20,
    sessions: int = 500,
    memory_sessions: int = 10,
    memory_turns: int = 100,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as data, EmbeddedRedis(Path(data)) as server:
        results["InMemorySaver"] = summary_ms(_turns(InMemorySaver(), threads, turns))
        connection = sqlite3.connect(
            str(Path(data) / "checkpoints.sqlite"), check_same_thread=False
        )
        results["SqliteSaver (file)"] = summary_ms(_turns(SqliteSaver(connection), threads, turns))
        connection.close()
        with redis_saver(server.url, ttl_minutes=30) as saver:
            results["RedisSaver (TTL, refresh on read)"] = summary_ms(_turns(saver, threads, turns))
            client = Redis.from_url(server.url)
            client.flushdb()
            saver.setup()
            before = int(client.info("memory")["used_memory"])
            graph = _graph().compile(checkpointer=saver)
            for session in range(sessions):
                config = {"configurable": {"thread_id": f"200:{session}"}}
                for turn in range(6):  # an active session: a few turns, a full window
                    graph.invoke(
                        {"messages": [HumanMessage(f"message {turn}")]}, config, durability="exit"
                    )
            after = int(client.info("memory")["used_memory"])
            keys = client.dbsize()
    per_session = (after - before) / sessions
    baseline = results["InMemorySaver"]["p50"]
    rows = [
        [name, f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['p50'] / baseline:.1f}"]
        for name, r in results.items()
    ]
    print(
        f"checkpoint: read + write per turn, {threads} threads x {turns} turns, "
        f"window {WINDOW} messages"
    )
    print(table(["saver", "p50 ms", "p99 ms", "x InMemory"], rows))
    print(
        f"Redis memory per active session: {per_session / 1024:.1f} KiB "
        f"({sessions} sessions of 6 turns, {keys} keys)"
    )
    memory = {"per_session_bytes": round(per_session), "sessions": sessions, "keys": keys}
    marks = (1, 20, 100) if memory_turns >= 100 else (1, min(20, memory_turns), memory_turns)
    stock = _memory_per_session(ours=False, sessions=memory_sessions, marks=marks)
    ours = _memory_per_session(ours=True, sessions=memory_sessions, marks=marks)
    print(f"Redis memory per idle session ({memory_sessions} sessions), KiB:")
    print(
        table(
            ["usage", *(f"after {t} turns" for t in marks)],
            [
                [
                    "stock (full history, every checkpoint)",
                    *(f"{stock[t] / 1024:.1f}" for t in marks),
                ],
                ["ours (window + prune)", *(f"{ours[t] / 1024:.1f}" for t in marks)],
            ],
        )
    )
    memory["per_idle_session_bytes"] = {
        "stock": {str(t): round(v) for t, v in stock.items()},
        "ours": {str(t): round(v) for t, v in ours.items()},
    }
    print(f"wrote {write_json('checkpoint', {'per_turn': results, 'redis_memory': memory}, out)}")
    return {"per_turn": results, "redis_memory": memory}


if __name__ == "__main__":
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results"))
