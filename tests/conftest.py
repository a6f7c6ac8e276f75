"""Session-wide real servers: the embedded Redis (with modules) and moto's server over HTTP.

Both are started once per test session and stopped at its end; the last check of the session is
that neither process is left running.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.localstack import ENDPOINT_VARIABLES, EmbeddedAWS
from app.settings import Settings, load_settings
from checkpointers import EmbeddedRedis
from stores import Stores


@dataclass
class Servers:
    redis: EmbeddedRedis
    aws: EmbeddedAWS
    data_dir: Path

    @property
    def redis_url(self) -> str:
        return self.redis.url


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for all purposes but its exit status.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    data_dir = tmp_path_factory.mktemp("data")
    saved = {
        name: os.environ.get(name)
        for name in (
            *ENDPOINT_VARIABLES,
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
        )
    }
    aws = EmbeddedAWS(data_dir / "logs")
    redis = EmbeddedRedis(data_dir)
    aws.start()
    try:
        redis.start()
    except BaseException:
        aws.stop()
        raise
    os.environ.update({name: aws.url for name in ENDPOINT_VARIABLES})
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1"
    )
    pids = [redis.pid, aws.pid]
    try:
        yield Servers(redis=redis, aws=aws, data_dir=data_dir)
    finally:
        redis.stop()
        aws.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    leftover = [pid for pid in pids if pid is not None and _pid_alive(pid)]
    assert not leftover, f"embedded server processes left running: {leftover}"


@pytest.fixture(scope="session")
def settings(servers: Servers) -> Settings:
    return load_settings(
        redis_url=servers.redis_url,
        data_dir=servers.data_dir,
        table_prefix=f"test-{uuid.uuid4().hex[:8]}-",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def stores(settings: Settings) -> Stores:
    connected = Stores.connect(
        settings.aws_region,
        settings.table_prefix,
        default_account=settings.whatsapp_phone_number_id,
    )
    connected.init_tables()
    return connected


@pytest.fixture
def pid_alive() -> object:
    return _pid_alive
