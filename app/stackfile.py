"""Where the running embedded stack is: `<DATA_DIR>/stack.json`, written by its owner process.

The first process that starts the embedded servers records their URLs and its own pid; every later
command with the same `DATA_DIR` reads the record, checks that the owner is alive and that each
server answers, and attaches instead of starting a second stack. A start lock
(`<DATA_DIR>/stack.lock`) makes "look for a stack, else start one" atomic between processes. The
owner removes the record when it stops; a record left by a killed owner fails the checks and is
replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import redis

from checkpointers import EmbeddedServerError

RECORD_NAME = "stack.json"
LOCK_NAME = "stack.lock"


@dataclass(frozen=True)
class StackRecord:
    """The embedded servers one process owns; a URL is None when that process did not start it."""

    owner_pid: int
    redis_url: str | None
    aws_url: str | None
    started_at: float


def record_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / RECORD_NAME


def write_record(data_dir: Path, record: StackRecord) -> None:
    """Atomically (write, then rename), so a reader never sees half a record."""
    path = record_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def remove_record(data_dir: Path, owner_pid: int) -> None:
    """Remove the record if `owner_pid` still owns it."""
    path = record_path(data_dir)
    record = read_record(data_dir)
    if record is not None and record.owner_pid == owner_pid:
        path.unlink(missing_ok=True)


def read_record(data_dir: Path) -> StackRecord | None:
    try:
        data = json.loads(record_path(data_dir).read_text(encoding="utf-8"))
        return StackRecord(
            owner_pid=int(data["owner_pid"]),
            redis_url=data.get("redis_url") or None,
            aws_url=data.get("aws_url") or None,
            started_at=float(data.get("started_at", 0.0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_record(data_dir: Path) -> StackRecord | None:
    """The record, if its owner is alive and every server it names answers."""
    record = read_record(data_dir)
    if record is None or not pid_alive(record.owner_pid):
        return None
    if record.redis_url and not redis_answers(record.redis_url):
        return None
    if record.aws_url and not moto_answers(record.aws_url):
        return None
    return record


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def moto_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/moto-api/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def start_lock(data_dir: Path, timeout: float = 60.0) -> Iterator[None]:
    """Held while a process looks for a running stack and, finding none, starts one."""
    path = Path(data_dir).resolve() / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"Another process has been starting the embedded stack in {path.parent} "
                        f"for {timeout:.0f}s; stop it or use a different DATA_DIR."
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
