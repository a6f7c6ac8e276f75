"""The embedded local stack: Redis with its modules and moto's DynamoDB/S3 server, on demand.

`LocalStack` starts only what configuration does not provide: Redis when `REDIS_URL` is unset, moto
when no AWS endpoint and no AWS credentials are configured. It points botocore's own
`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` at moto (with dummy credentials) in this
process's environment, which child processes inherit. Whatever it starts it stops on exit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import botocore.session
import httpx
import structlog

from app.settings import Settings
from checkpointers import ChildProcess, EmbeddedRedis, free_loopback_port

log = structlog.get_logger(__name__)

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def aws_endpoint_configured() -> bool:
    """True when botocore is told to send DynamoDB or S3 somewhere other than AWS."""
    return any(os.environ.get(name) for name in ("AWS_ENDPOINT_URL", *ENDPOINT_VARIABLES))


def aws_credentials_configured() -> bool:
    """True when botocore finds credentials without asking the EC2 metadata service.

    The instance-metadata probe is skipped: it would wait on a network this machine may not have,
    and a developer laptop never has it.
    """
    session = botocore.session.get_session()
    resolver = session.get_component("credential_provider")
    resolver.remove("iam-role")
    try:
        return resolver.load_credentials() is not None
    except Exception:
        return False


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


@dataclass
class LocalStack:
    """Start what the settings leave unconfigured; `settings` is updated with the URLs in use."""

    settings: Settings
    redis: EmbeddedRedis | None = None
    aws: EmbeddedAWS | None = None
    _saved_environ: dict[str, str | None] = field(default_factory=dict)

    def start(self) -> Settings:
        try:
            if self.settings.redis_url is None:
                self.redis = EmbeddedRedis(self.settings.data_dir)
                url = self.redis.start()
                self.settings = self.settings.model_copy(update={"redis_url": url})
                log.info("embedded redis started", url=url, data_dir=str(self.redis.data_dir))
            if not aws_endpoint_configured() and not aws_credentials_configured():
                self.aws = EmbeddedAWS(self.settings.data_dir / "logs")
                url = self.aws.start()
                self._set_environ(
                    {name: url for name in ENDPOINT_VARIABLES}
                    | _DUMMY_CREDENTIALS
                    | {"AWS_REGION": self.settings.aws_region}
                )
                log.info("embedded aws started", url=url, services="dynamodb,s3 (in memory)")
        except BaseException:
            self.stop()
            raise
        return self.settings

    def environment(self) -> dict[str, str]:
        """The variables another process needs to share this stack."""
        env: dict[str, str] = {}
        if self.settings.redis_url:
            env["REDIS_URL"] = self.settings.redis_url
        for name in (*ENDPOINT_VARIABLES, *_DUMMY_CREDENTIALS, "AWS_REGION"):
            value = os.environ.get(name)
            if value and (self.aws is not None or name in ENDPOINT_VARIABLES):
                env[name] = value
        return env

    def stop(self) -> None:
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
            log.info("embedded aws stopped")
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
            log.info("embedded redis stopped")
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
