"""Meta's webhook over HTTP (FastAPI): verification (GET) and notifications (POST).

The checks and the accepting live in server/notifications.py, shared with the webhook Lambda; this
module reads the request (refusing an oversized body while it streams: 413) and answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from server.deps import ConfigDep
from server.notifications import (
    WebhookContext,
    handle_notification,
    signature_for,
    verify_challenge,
)

__all__ = ["WebhookContext", "handle_notification", "router", "signature_for", "verify_challenge"]

router = APIRouter(tags=["webhook"])


Config = ConfigDep


@router.get("/webhook", response_class=PlainTextResponse)
async def verify(
    config: Config,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    status, text = verify_challenge(config.verify_token, mode, token, challenge)
    return PlainTextResponse(text, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def context_of(request: Request) -> WebhookContext:
    state = request.app.state
    return WebhookContext(
        config=state.config,
        queue=state.queue,
        accounts=state.accounts,
        stores=state.stores,
        redis=state.redis,
        metrics=state.metrics,
    )


Context = Annotated[WebhookContext, Depends(context_of)]


@router.post("/webhook")
async def receive(request: Request, config: Config, context: Context) -> JSONResponse:
    body = await _read_body(request, config.max_body_bytes)
    if body is None:
        context.metrics.webhooks.labels(outcome="too_large").inc()
        return JSONResponse({"error": "body too large"}, status_code=413)
    signature = request.headers.get("x-hub-signature-256")
    status, content = await handle_notification(context, body, signature)
    return JSONResponse(content, status_code=status)
