"""One local stack, many commands: the first process records its servers, later ones attach.

What a newcomer does: `make run` in one terminal, then `wam chat`, `wam evals run`, `make studio`
or a second `wam worker` in others, with no variables exported. Every command here runs as a real
subprocess with the same `DATA_DIR` and no `REDIS_URL` or AWS variables.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from app.localstack import LocalStack
from app.settings import load_settings
from app.stackfile import StackRecord, read_record, record_path, write_record
from checkpointers import free_loopback_port
from tests.integration.test_infra_cli import (
    WAM,
    _clean_env,
    _descendants,
    _start_infra,
    _wait_gone,
    _wait_http_ok,
)
from tools import LocalKnowledgeBase

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _process_names(pids: list[int]) -> str:
    if not pids:
        return ""
    return subprocess.run(
        ["ps", "-ww", "-o", "args=", "-p", ",".join(map(str, pids))],
        capture_output=True,
        text=True,
    ).stdout


def _attached(stderr: str) -> bool:
    return "attached to the running local stack" in stderr


def _chat(env: dict[str, str], text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WAM, "chat", "--user", "+15550002"],
        input=f"{text}\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_command_attaches_to_infra_up_and_dummy_credentials_stay_offline(tmp_path) -> None:
    owner, exported = _start_infra(tmp_path)
    try:
        record = read_record(tmp_path / "data")
        assert record is not None and record.owner_pid == owner.pid
        assert record.redis_url == exported["REDIS_URL"]

        # Same DATA_DIR, nothing exported: attaches instead of "Another process already runs...".
        seeded = subprocess.run(
            [*WAM, "db", "seed"],
            env=_clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert seeded.returncode == 0, seeded.stderr
        assert _attached(seeded.stderr)
        assert "cust_002  +15550002  premium" in seeded.stdout

        again = subprocess.run(
            [*WAM, "infra", "up"], env=_clean_env(tmp_path), capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert f"already running (process {owner.pid})" in again.stdout

        # The printed exports (with their dummy credentials) in another folder's shell: the
        # dummies are not real credentials, so the offline model answers, not Bedrock.
        chatted = _chat(_clean_env(tmp_path / "elsewhere", **exported), "How much is premium?")
        assert chatted.returncode == 0, chatted.stderr
        assert "| offline" in chatted.stdout, chatted.stdout
        assert "trouble answering" not in chatted.stdout
    finally:
        owner.send_signal(signal.SIGINT)
        owner.wait(timeout=15)
    assert not record_path(tmp_path / "data").exists(), "the owner leaves its record behind"


def test_attached_processes_stop_clearly_when_the_owner_stops(tmp_path) -> None:
    """A worker, and a chat waiting for its next line, end with one line when the stack goes."""
    owner, _ = _start_infra(tmp_path)
    attached = {
        name: subprocess.Popen(
            [*WAM, *argv],
            env=_clean_env(tmp_path),
            stdin=subprocess.PIPE,  # left open: the chat is waiting for a line
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, argv in (("worker", ["worker", "--count", "1"]), ("chat", ["chat"]))
    }
    try:
        for process in attached.values():
            assert process.stdout is not None
            assert "local stack: using the one process" in (
                process.stdout.readline() + process.stdout.readline()
            )
    finally:
        owner.send_signal(signal.SIGINT)
        owner.wait(timeout=15)
    for name, process in attached.items():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"the attached {name} kept running without its stack") from None
        assert process.stderr is not None
        stderr = process.stderr.read()
        assert f"error: the local stack of process {owner.pid} stopped with it" in stderr, name
        assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr[-3000:]


def test_a_record_left_by_a_killed_owner_is_replaced(tmp_path, monkeypatch) -> None:
    data_dir = tmp_path / "data"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout
    write_record(data_dir, StackRecord(int(dead), "redis://127.0.0.1:1/0", None, 0.0))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")  # Redis only
    stack = LocalStack(load_settings(data_dir=data_dir, redis_url=None, _env_file=None))
    with stack:
        assert stack.redis is not None and stack.attached is None
        record = read_record(data_dir)
        assert record is not None and record.owner_pid == os.getpid()
        assert record.redis_url == stack.redis.url
    assert read_record(data_dir) is None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`wam serve` (what `make run` starts) on the embedded stack; stopped with Ctrl-C."""
    port = free_loopback_port()
    server = subprocess.Popen(
        [*WAM, "serve"],
        env=_clean_env(tmp_path, PORT=str(port), BURST_WINDOW_MS="100", LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http_ok(f"{base}/readyz", timeout=60)
        yield base, server
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _langgraph_dev(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "langgraph"),
            "dev",
            "--no-reload",
            "--no-browser",
            "--port",
            str(port),
            "--config",
            str(ROOT / "langgraph.json"),
        ],
        cwd=ROOT,
        env=_clean_env(tmp_path, LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _studio_turn(base: str, assistant: str, text: str, wa_id: str) -> dict[str, object]:
    thread = httpx.post(f"{base}/threads", json={}, timeout=10).json()["thread_id"]
    state: dict[str, object] = httpx.post(
        f"{base}/threads/{thread}/runs/wait",
        json={
            "assistant_id": assistant,
            "input": {"messages": [{"type": "human", "content": text}], "wa_id": wa_id},
        },
        timeout=60,
    ).json()
    return state


def _kb_ingest_and_second_worker_attach(tmp_path: Path) -> None:
    document = tmp_path / "warranty.md"
    document.write_text("# Warranty\n\nThe zorbulon warranty lasts seven years.\n")
    ingested = subprocess.run(
        [*WAM, "kb", "ingest", str(document), "--kb", "smart-home"],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ingested.returncode == 0, ingested.stderr
    assert _attached(ingested.stderr)
    record = read_record(tmp_path / "data")
    assert record is not None and record.redis_url
    base = LocalKnowledgeBase(Redis.from_url(record.redis_url), "smart-home")
    assert base.retrieve("zorbulon warranty")[0].source == "warranty"
    assert base.retrieve("What are your opening hours?"), "the bundled documents are gone"

    worker = subprocess.Popen(
        [*WAM, "worker", "--count", "1"],
        env=_clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        banner = worker.stdout.readline()
        assert f"redis {record.redis_url}" in banner, banner
    finally:
        worker.send_signal(signal.SIGINT)
        _, stderr = worker.communicate(timeout=30)
    assert _attached(stderr), stderr[-2000:]


def test_chat_evals_and_studio_beside_wam_serve(served, tmp_path, pid_alive) -> None:
    """Done when: `wam serve` runs; `wam chat`, `wam evals run --tag smoke` and `langgraph dev`
    use its stack at the same time (no second Redis, no GraphLoadError)."""
    base, server = served
    owned = _descendants(server.pid)
    assert "valkey-server" in _process_names(owned)

    # Studio, the evals and a chat start together: each attaches to the stack `wam serve` owns.
    port = free_loopback_port()
    studio = _langgraph_dev(tmp_path, port)
    studio_base = f"http://127.0.0.1:{port}"
    evals = None
    try:
        out = tmp_path / "smoke"
        evals = subprocess.Popen(
            [*WAM, "evals", "run", "--tag", "smoke", "--out", str(out)],
            env=_clean_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        chatted = _chat(_clean_env(tmp_path), "How much is the premium plan?")
        assert chatted.returncode == 0, chatted.stderr
        assert _attached(chatted.stderr)
        assert f"local stack: using the one process {server.pid} started" in chatted.stdout
        assert "$29.99" in chatted.stdout and "| offline" in chatted.stdout, chatted.stdout

        _, evals_stderr = evals.communicate(timeout=240)
        assert evals.returncode == 0, evals_stderr[-2000:]
        assert _attached(evals_stderr)
        results = json.loads((out / "results.json").read_text())
        assert results["records"] and results["metrics"]["routing_accuracy"] > 0.8

        _kb_ingest_and_second_worker_attach(tmp_path)

        _wait_http_ok(f"{studio_base}/ok", timeout=120)
        tree = _descendants(studio.pid)
        names = _process_names(tree)
        assert "valkey-server" not in names and "moto.server" not in names, names
        state = _studio_turn(studio_base, "supervisor", "How much is the premium plan?", "15550002")
        assert "$29.99" in str(state["messages"][-1]["content"])  # type: ignore[index]
        # A single-agent graph loads the customer the same way the supervisor does.
        agent_state = _studio_turn(studio_base, "billing", "What is my balance?", "15550002")
        assert agent_state.get("customer_id") == "cust_002", agent_state
    finally:
        if evals is not None and evals.poll() is None:
            evals.kill()
            evals.wait()
        tree = _descendants(studio.pid)
        os.killpg(studio.pid, signal.SIGTERM)
        studio.wait(timeout=30)
    assert _wait_gone(tree, pid_alive) == []
    assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200, "serve lost its stack"


async def test_a_single_agent_graph_loads_the_customer_like_the_supervisor(demo) -> None:
    from langchain_core.messages import HumanMessage

    from graph import compile_single_agent

    billing = compile_single_agent(demo, "billing")
    state = await billing.ainvoke(
        {"messages": [HumanMessage("What is my balance?")], "wa_id": "15550002"}
    )
    assert state["customer_id"] == "cust_002"
    assert state["context_variables"]["service_level"] == "premium"
    assert "no customer_id" not in str(state["messages"][-1].content)
