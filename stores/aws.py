"""boto3 clients built one way: region from settings, endpoints from botocore's own variables.

`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` (set by the embedded stack, or by you) are read
by botocore itself, so the same code reaches moto locally and AWS in production.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    max_pool_connections=256,
    connect_timeout=5,
    read_timeout=30,
)


def aws_client(service: str, region: str) -> Any:
    """A thread-safe boto3 client with adaptive retries (throttling backs off)."""
    return boto3.session.Session().client(service, region_name=region, config=_CLIENT_CONFIG)
