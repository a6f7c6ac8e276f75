"""Liveness and readiness: `/healthz` says the process answers, `/readyz` its dependencies."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from checkpointers import RedisModulesMissingError, acheck_redis_modules
from server.deps import ConfigDep, RedisDep, StoresDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(stores: StoresDep, redis: RedisDep, config: ConfigDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        await asyncio.wait_for(redis.ping(), timeout=2)
        await acheck_redis_modules(redis, config.redis_url)
        checks["redis"] = "ok"
    except RedisModulesMissingError as error:
        checks["redis"] = str(error)
    except Exception as error:
        checks["redis"] = f"unreachable: {type(error).__name__}"
    try:
        await asyncio.wait_for(
            asyncio.to_thread(stores.dynamodb.describe_table, TableName=stores.conversations.table),
            timeout=5,
        )
        checks["dynamodb"] = "ok"
    except Exception as error:
        checks["dynamodb"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
