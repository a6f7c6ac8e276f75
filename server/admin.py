"""The admin API: a person's data (GDPR access and erasure) and the daily analytics, and the
dashboard page over them.

`/admin/api/...` is authenticated with `Authorization: Bearer <ADMIN_TOKEN>` (401 without it; with
no token configured every call is refused). `GET /dashboard` is the page: it asks for the same
token and calls the API with it.

- `GET /admin/api/users/{wa_id}`: everything stored about the person (JSON).
- `DELETE /admin/api/users/{wa_id}`: erase the person everywhere; the deletion report.
- `GET /admin/api/analytics/daily?days=14&end=YYYY-MM-DD&account=<phone_number_id>`: the daily
  metrics files written by `wam analytics daily`, oldest first.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import date, timedelta
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from checkpointers import async_redis_saver
from server.deps import AccountsDep, ConfigDep, RedisDep, S3Dep, StoresDep
from server.gdpr import InvalidNumberError, PersonalDataService
from stores.analytics import read_daily_metrics
from stores.erasure import PersonalData


def _authorized(config: ConfigDep, request: Request) -> None:
    token = config.admin_token
    given = request.headers.get("authorization", "")
    if token is None or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token" if token else "set ADMIN_TOKEN to use the API",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _service(
    config: ConfigDep, stores: StoresDep, redis: RedisDep, accounts: AccountsDep, s3: S3Dep
) -> PersonalDataService:
    return PersonalDataService(
        redis=redis,
        data=PersonalData(stores.dynamodb, s3, config.s3_bucket, stores.prefix),
        open_saver=lambda: async_redis_saver(config.redis_url, config.session_ttl_minutes),
        accounts=[a.phone_number_id for a in accounts.all()],
    )


ServiceDep = Annotated[PersonalDataService, Depends(_service)]

page_router = APIRouter(tags=["admin"])
router = APIRouter(prefix="/admin/api", tags=["admin"], dependencies=[Depends(_authorized)])


@page_router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> HTMLResponse:
    page = resources.files("server") / "static" / "dashboard.html"
    return HTMLResponse(page.read_text("utf-8"))


@router.get("/users/{wa_id}")
async def access(wa_id: str, service: ServiceDep) -> dict[str, Any]:
    try:
        return await service.access(wa_id)
    except InvalidNumberError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None


@router.delete("/users/{wa_id}")
async def erase(wa_id: str, service: ServiceDep) -> dict[str, Any]:
    try:
        return await service.erase(wa_id)
    except InvalidNumberError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None


@router.get("/analytics/daily")
async def daily(
    config: ConfigDep,
    s3: S3Dep,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
    end: Annotated[date | None, Query()] = None,
    account: Annotated[str | None, Query(pattern=r"^\d{1,20}$")] = None,
) -> list[dict[str, Any]]:
    last = end or date.today()
    wanted = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return await asyncio.to_thread(read_daily_metrics, s3, config.s3_bucket, wanted, account)
