"""`PREPARE_ON_START=false`: a deployed process (the Fargate workers) leaves the tables and bucket
to the stack that owns them; by default `wam serve` / `wam worker` create them at start."""

from __future__ import annotations

import uuid

import pytest

from app.runtime import running_stack
from app.settings import Settings
from stores import aws_client

pytestmark = pytest.mark.integration


def _tables(prefix: str) -> list[str]:
    pages = aws_client("dynamodb", "us-east-1").get_paginator("list_tables").paginate()
    return [n for page in pages for n in page["TableNames"] if n.startswith(prefix)]


def test_a_process_creates_its_tables_only_when_asked(settings: Settings, servers) -> None:
    prefix = f"prep-{uuid.uuid4().hex[:8]}-"
    owned = settings.model_copy(update={"table_prefix": prefix, "prepare_on_start": False})
    with running_stack(owned) as runtime:
        assert runtime.settings.table_prefix == prefix
        assert _tables(prefix) == []
    with running_stack(owned.model_copy(update={"prepare_on_start": True})):
        assert f"{prefix}conversations" in _tables(prefix)
