"""`wam` as a user runs it: infra up shares its servers, stops them on any signal, db init/seed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

pytestmark = pytest.mark.integration

WAM = [sys.executable, "-c", "from app.cli import main; main()"]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "REDIS_URL", "TABLE_PREFIX"))
    }
    env.update(DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path), LOG_FORMAT="json", **extra)
    return env


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children_of(pid):
        found += [child, *_descendants(child)]
    return found


def _wait_http_ok(url: str, timeout: float) -> None:
    """Until `url` answers 200; fails the test on timeout instead of carrying on."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within {timeout:.0f}s")


def _wait_gone(pids: list[int], pid_alive, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if pid_alive(p)]
        if not alive:
            return []
        time.sleep(0.05)
    return alive


def _start_infra(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [*WAM, "infra", "up"],
        env=_clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    exported: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.match(r"export (\w+)=(.*)", line.strip()):
            exported[match[1]] = match[2]
        if "Ctrl-C stops it" in line:
            break
    return process, exported


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_infra_up_prints_urls_and_leaves_no_orphan(tmp_path, pid_alive, how) -> None:
    process, exported = _start_infra(tmp_path)
    try:
        assert exported["REDIS_URL"].startswith("redis://127.0.0.1:")
        assert exported["AWS_ENDPOINT_URL_DYNAMODB"] == exported["AWS_ENDPOINT_URL_S3"]
        client = redis.Redis.from_url(exported["REDIS_URL"])
        assert client.ping()
        assert client.execute_command("FT._LIST") == []
        children = _children_of(process.pid)
        assert len(children) == 2, children

        # A second process shares the servers through the printed variables.
        shared = subprocess.run(
            [*WAM, "db", "seed"],
            env=_clean_env(tmp_path / "second", **exported),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shared.returncode == 0, shared.stderr
        assert "cust_003  +15550003  enterprise" in shared.stdout
    finally:
        process.send_signal(how)
        process.wait(timeout=15)
    assert _wait_gone(children, pid_alive) == [], f"orphans after {how.name}"


def test_embedded_redis_keeps_sessions_across_restart(tmp_path) -> None:
    from checkpointers import EmbeddedRedis

    with EmbeddedRedis(tmp_path) as first:
        client = redis.Redis.from_url(first.url)
        client.set("session", "kept")  # appended to the AOF; flushed when the server stops
        client.close()
    with EmbeddedRedis(tmp_path) as second:
        assert redis.Redis.from_url(second.url).get("session") == b"kept"


def test_db_init_is_idempotent_and_help_lists_commands(servers, tmp_path) -> None:
    env = _clean_env(
        tmp_path,
        REDIS_URL=servers.redis_url,
        AWS_ENDPOINT_URL_DYNAMODB=servers.aws.url,
        AWS_ENDPOINT_URL_S3=servers.aws.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        TABLE_PREFIX="cli-test-",
    )
    first = subprocess.run(
        [*WAM, "db", "init"], env=env, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    assert (
        "created: cli-test-conversations, cli-test-customers, cli-test-users, "
        "cli-test-service-levels" in first.stdout
    )
    again = subprocess.run(
        [*WAM, "db", "init"], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "created: none" in again.stdout

    helped = subprocess.run([*WAM, "--help"], capture_output=True, text=True, timeout=30)
    for command in ("infra", "db", "serve"):
        assert command in helped.stdout


def test_invalid_setting_stops_startup_naming_the_variable(tmp_path) -> None:
    result = subprocess.run(
        [*WAM, "db", "init"],
        env=_clean_env(tmp_path, SESSION_TTL_MINUTES="soon"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "SESSION_TTL_MINUTES: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_child_started_from_a_finished_thread_dies_with_its_parent(tmp_path, pid_alive) -> None:
    script = (
        "import threading, time, sys\n"
        "from checkpointers import EmbeddedRedis\n"
        f"server = EmbeddedRedis({str(tmp_path)!r})\n"
        "worker = threading.Thread(target=server.start); worker.start(); worker.join()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(0.3)  # a child wrongly tied to the finished thread would be signalled by now
    assert pid_alive(child), "the server stopped when the thread that started it ended"
    parent.kill()
    parent.wait()
    assert _wait_gone([child], pid_alive) == []


def test_langgraph_dev_serves_the_graphs_without_aws(tmp_path, pid_alive) -> None:
    import httpx

    from checkpointers import free_loopback_port

    port = free_loopback_port()
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "langgraph"),
            "dev",
            "--no-reload",
            "--no-browser",
            "--port",
            str(port),
            "--config",
            str(root / "langgraph.json"),
        ],
        cwd=root,
        env=_clean_env(tmp_path, LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http_ok(f"{base}/ok", timeout=90)
        graphs = httpx.post(f"{base}/assistants/search", json={}, timeout=10).json()
        assert {a["graph_id"] for a in graphs} == {
            "supervisor",
            "sales",
            "device_support",
            "billing",
            "general",
        }
        tree = _descendants(server.pid)
        names = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", ",".join(map(str, tree))],
            capture_output=True,
            text=True,
        ).stdout
        assert "valkey-server" in names and "moto.server" in names, names
        thread = httpx.post(f"{base}/threads", json={}, timeout=10).json()["thread_id"]
        state = httpx.post(
            f"{base}/threads/{thread}/runs/wait",
            json={
                "assistant_id": "supervisor",
                "input": {
                    "messages": [{"type": "human", "content": "¿Cuál es su horario?"}],
                    "wa_id": "15550004",
                },
                "context": {"router_threshold": 0.3},
            },
            timeout=60,
        ).json()
        assert state["active_agent"] == "general"
        assert state["language"] == "es"
        assert "(Fuente: Horario y contacto)" in state["messages"][-1]["content"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert _wait_gone(tree, pid_alive) == [], "processes left after langgraph dev stopped"


def test_wam_serve_on_the_embedded_stack_answers_the_simulator(tmp_path, pid_alive) -> None:
    """What `make run` starts: a newcomer opens the page and chats; Ctrl-C leaves nothing."""
    import httpx

    from checkpointers import free_loopback_port

    port = free_loopback_port()
    server = subprocess.Popen(
        [*WAM, "serve"],
        env=_clean_env(tmp_path, PORT=str(port), BURST_WINDOW_MS="100"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        banner = server.stdout.readline() + server.stdout.readline()
        assert f"simulator: open {base}/" in banner
        _wait_http_ok(f"{base}/readyz", timeout=60)
        tree = _descendants(server.pid)
        assert "WhatsApp simulator" in httpx.get(f"{base}/").text
        for wa_id, text, expected in [
            ("15550002", "How much is the premium plan?", "$29.99"),
            ("15550004", "¿Mi altavoz está conectado?", "conectado"),
        ]:
            sent = httpx.post(f"{base}/simulator/messages", json={"wa_id": wa_id, "text": text})
            assert sent.json()["webhook_status"] == 200
            replies = httpx.get(
                f"{base}/simulator/outbox", params={"wa_id": wa_id, "wait": 20}, timeout=30
            ).json()
            assert replies and expected in replies[0]["text"], replies
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert _wait_gone(tree, pid_alive) == [], "processes left after Ctrl-C"


def test_infra_up_restarts_a_redis_that_died(tmp_path, pid_alive) -> None:
    process, exported = _start_infra(tmp_path)
    try:
        client = redis.Redis.from_url(exported["REDIS_URL"])
        client.set("session", "kept")
        client.execute_command("BGREWRITEAOF")
        time.sleep(1)
        dead = int(client.info("server")["process_id"])
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(exported["REDIS_URL"]).ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.2)
        again = redis.Redis.from_url(exported["REDIS_URL"])
        assert int(again.info("server")["process_id"]) != dead
        assert again.get("session") == b"kept"
        assert process.poll() is None
        children = _children_of(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert _wait_gone(children, pid_alive) == []
