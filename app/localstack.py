"""The embedded local stack: Redis with its modules and moto's DynamoDB/S3 server, on demand.

`LocalStack` provides only what configuration does not: Redis when `REDIS_URL` is unset, moto
when no AWS endpoint and no real AWS credentials are configured. The first process that needs them
starts them and records where they are (`<DATA_DIR>/stack.json`, see `app.stackfile`); every later
process with the same `DATA_DIR` attaches to that stack instead of starting its own. It points
botocore's own `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` at moto (with dummy credentials)
in this process's environment, which child processes inherit. Whatever it starts it stops on exit.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import boto3
import httpx
import structlog

from app.settings import Settings
from app.stackfile import (
    StackRecord,
    live_record,
    pid_alive,
    remove_record,
    start_lock,
    write_record,
)
from checkpointers import ChildProcess, EmbeddedRedis, free_loopback_port

log = structlog.get_logger(__name__)

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")
# moto accepts any key; this one marks credentials that only ever reach the embedded stack.
LOCAL_DUMMY_ACCESS_KEYS = frozenset({"testing"})
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def aws_endpoint_configured() -> bool:
    """True when botocore is told to send DynamoDB or S3 somewhere other than AWS."""
    return any(os.environ.get(name) for name in ("AWS_ENDPOINT_URL", *ENDPOINT_VARIABLES))


def aws_credentials_configured() -> bool:
    """True when botocore's whole credential chain finds real credentials.

    The chain is botocore's own: environment, shared credentials and config files (profiles, SSO,
    credential processes), web identity, and the ECS container and EC2 instance roles. The dummy
    credentials of the embedded stack (`testing`) are not real: they never switch a command to
    Bedrock.
    """
    try:
        credentials = boto3.Session().get_credentials()
        if credentials is None:
            return False
        access_key = credentials.get_frozen_credentials().access_key
    except Exception as error:
        log.warning("aws credentials unusable", error=repr(error)[:200])
        return False
    return bool(access_key) and access_key not in LOCAL_DUMMY_ACCESS_KEYS


class EmbeddedAWS:
    """moto's server (DynamoDB, S3 and the rest of its services) on a free loopback port.

    It keeps everything in memory: restarting it empties its tables and buckets.
    """

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_loopback_port()
        self._child = ChildProcess(
            "moto server",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            Path(log_dir) / "moto.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        def ready() -> bool:
            return httpx.get(f"{self.url}/moto-api/", timeout=1).status_code == 200

        self._child.start(ready, timeout)
        return self.url

    def stop(self) -> None:
        self._child.stop()

    def is_running(self) -> bool:
        return self._child.is_running()

    @property
    def pid(self) -> int | None:
        return self._child.pid


class OwnerWatch:
    """In a process attached to another's stack: when that owner exits (and its servers with it),
    say so in one line and stop this process as Ctrl-C would, rather than fail call after call."""

    def __init__(self, owner_pid: int, interval: float = 1.0) -> None:
        self.owner_pid = owner_pid
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stack-owner-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            if not pid_alive(self.owner_pid):
                log.error("local stack owner exited", owner_pid=self.owner_pid)
                sys.stderr.write(
                    f"error: the local stack of process {self.owner_pid} stopped with it; "
                    "start this command again (it will start or attach to a stack)\n"
                )
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGTERM)
                return


@dataclass
class LocalStack:
    """Provide what the settings leave unconfigured; `settings` is updated with the URLs in use.

    `redis` and `aws` are the servers this process started (and stops); `attached` is the record
    of another process's stack this one uses.
    """

    settings: Settings
    redis: EmbeddedRedis | None = None
    aws: EmbeddedAWS | None = None
    attached: StackRecord | None = None
    aws_url: str | None = None
    real_aws_credentials: bool = False
    _recorded: bool = False
    _watch: OwnerWatch | None = None
    _saved_environ: dict[str, str | None] = field(default_factory=dict)

    @property
    def embedded_aws(self) -> bool:
        """DynamoDB and S3 are an embedded moto server (this process's or an attached one)."""
        return self.aws_url is not None

    def start(self) -> Settings:
        try:
            self.real_aws_credentials = aws_credentials_configured()
            need_redis = self.settings.redis_url is None
            need_aws = not aws_endpoint_configured() and not self.real_aws_credentials
            if need_redis or need_aws:
                with start_lock(self.settings.data_dir):
                    self._attach_or_start(need_redis, need_aws)
        except BaseException:
            self.stop()
            raise
        return self.settings

    def _attach_or_start(self, need_redis: bool, need_aws: bool) -> None:
        record = live_record(self.settings.data_dir)
        redis_url = record.redis_url if record and need_redis else None
        aws_url = record.aws_url if record and need_aws else None
        if record is not None and (redis_url or aws_url):
            self.attached = record
            self._watch = OwnerWatch(record.owner_pid)
            self._watch.start()
            log.info(
                "attached to the running local stack",
                owner_pid=record.owner_pid,
                redis=redis_url,
                aws=aws_url,
            )
        if need_redis and redis_url is None:
            self.redis = EmbeddedRedis(self.settings.data_dir)
            redis_url = self.redis.start()
            log.info("embedded redis started", url=redis_url, data_dir=str(self.redis.data_dir))
        if need_aws and aws_url is None:
            self.aws = EmbeddedAWS(self.settings.data_dir / "logs")
            aws_url = self.aws.start()
            log.info("embedded aws started", url=aws_url, services="dynamodb,s3 (in memory)")
        if redis_url:
            self.settings = self.settings.model_copy(update={"redis_url": redis_url})
        if aws_url:
            self.aws_url = aws_url
            self._set_environ(
                {name: aws_url for name in ENDPOINT_VARIABLES}
                | _DUMMY_CREDENTIALS
                | {"AWS_REGION": self.settings.aws_region}
            )
        if (self.redis or self.aws) and self.attached is None:
            write_record(
                self.settings.data_dir,
                StackRecord(
                    owner_pid=os.getpid(),
                    redis_url=self.redis.url if self.redis else None,
                    aws_url=self.aws.url if self.aws else None,
                    started_at=time.time(),
                ),
            )
            self._recorded = True

    def environment(self) -> dict[str, str]:
        """The variables another process needs to share this stack."""
        env: dict[str, str] = {}
        if self.settings.redis_url:
            env["REDIS_URL"] = self.settings.redis_url
        for name in (*ENDPOINT_VARIABLES, *_DUMMY_CREDENTIALS, "AWS_REGION"):
            value = os.environ.get(name)
            if value and (self.embedded_aws or name in ENDPOINT_VARIABLES):
                env[name] = value
        return env

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self._recorded:
            remove_record(self.settings.data_dir, os.getpid())
            self._recorded = False
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
            log.info("embedded aws stopped")
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
            log.info("embedded redis stopped")
        self.aws_url = None
        self._restore_environ()

    def _set_environ(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_environ.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _restore_environ(self) -> None:
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ.clear()

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
