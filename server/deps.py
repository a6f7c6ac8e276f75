"""What the routes need from the running app, as typed FastAPI dependencies (`Annotated`), so no
route reads `request.app.state` itself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from redis.asyncio import Redis as AsyncRedis

from server.accounts import AccountRegistry
from server.config import ChannelConfig
from server.handoff import Handoff
from server.outbox import LocalOutbox
from server.replies import ReplySender
from stores import Stores, aws_client


def get_config(request: Request) -> ChannelConfig:
    config: ChannelConfig = request.app.state.config
    return config


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores


def get_redis(request: Request) -> AsyncRedis:
    redis: AsyncRedis = request.app.state.redis
    return redis


def get_accounts(request: Request) -> AccountRegistry:
    accounts: AccountRegistry = request.app.state.accounts
    return accounts


def get_handoff(request: Request) -> Handoff:
    handoff: Handoff | None = getattr(request.app.state, "handoff", None)
    if handoff is None:
        raise HTTPException(status_code=503, detail="the channel is not running")
    return handoff


def get_replies(request: Request) -> ReplySender:
    replies: ReplySender = request.app.state.replies
    return replies


def get_outbox(request: Request) -> LocalOutbox | None:
    outbox: LocalOutbox | None = request.app.state.outbox
    return outbox


def get_s3(request: Request) -> Any:
    """One S3 client per app, made on first use (the admin API reads exports and analytics)."""
    client = getattr(request.app.state, "s3", None)
    if client is None:
        client = request.app.state.s3 = aws_client("s3", get_config(request).aws_region)
    return client


ConfigDep = Annotated[ChannelConfig, Depends(get_config)]
StoresDep = Annotated[Stores, Depends(get_stores)]
RedisDep = Annotated[AsyncRedis, Depends(get_redis)]
AccountsDep = Annotated[AccountRegistry, Depends(get_accounts)]
HandoffDep = Annotated[Handoff, Depends(get_handoff)]
RepliesDep = Annotated[ReplySender, Depends(get_replies)]
OutboxDep = Annotated[LocalOutbox | None, Depends(get_outbox)]
S3Dep = Annotated[Any, Depends(get_s3)]
