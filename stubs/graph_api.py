"""A local stand-in for Meta's Graph API: records sends and read receipts, serves media, and can
be told to fail (429, Meta error codes) or hang on the next sends.

With `app.state.status_webhook = (url, app_secret)` it also does what Meta does after a send: it
posts a signed `sent` status webhook to `url`, echoing the send's `biz_opaque_callback_data`.
`app.state.latency_s` delays every send, as a loaded Graph API does."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def create_graph_api_stub() -> FastAPI:
    app = FastAPI()
    app.state.sent = []
    app.state.reads = []
    app.state.requests = 0
    app.state.failures = []
    app.state.hang_seconds = 0.0
    app.state.media = {}
    app.state.tokens = {"Bearer test-token"}
    app.state.status_webhook = None
    app.state.latency_s = 0.0
    app.state.background = set()
    counter = itertools.count(1)
    # Unique per stub: modules each start a stub, and their replies share one DynamoDB log.
    instance = uuid.uuid4().hex[:8]

    @app.post("/{phone_number_id}/messages")
    async def messages(phone_number_id: str, request: Request) -> Response:
        payload: dict[str, Any] = await request.json()
        app.state.requests += 1
        if request.headers.get("authorization") not in app.state.tokens:
            return JSONResponse({"error": {"code": 190, "message": "bad token"}}, 401)
        if payload.get("status") == "read":
            app.state.reads.append(payload)
            return JSONResponse({"success": True})
        if app.state.failures:
            status, code = app.state.failures.pop(0)
            return JSONResponse({"error": {"code": code, "message": f"failure {code}"}}, status)
        if app.state.hang_seconds:
            hang, app.state.hang_seconds = app.state.hang_seconds, 0.0
            await asyncio.sleep(hang)
            return JSONResponse({"error": {"code": 2, "message": "too late"}}, 503)
        if app.state.latency_s:
            await asyncio.sleep(app.state.latency_s)
        wamid = f"wamid.out.{instance}.{next(counter)}"
        app.state.sent.append(
            {
                "phone_number_id": phone_number_id,
                "id": wamid,
                "authorization": request.headers["authorization"],
                "at": time.monotonic(),
                **payload,
            }
        )
        if app.state.status_webhook is not None:
            task = asyncio.create_task(
                _post_status(app.state.status_webhook, phone_number_id, wamid, payload)
            )
            app.state.background.add(task)
            task.add_done_callback(app.state.background.discard)
        return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": wamid}]})

    @app.get("/media-files/{media_id}")
    async def media_file(media_id: str, request: Request) -> Response:
        content, mime = app.state.media[media_id]
        return Response(content, media_type=mime)

    @app.get("/{media_id}")
    async def media_url(media_id: str, request: Request) -> Response:
        if media_id not in app.state.media:
            return JSONResponse({"error": {"code": 100, "message": "unknown media"}}, 404)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "url": f"{base}/media-files/{media_id}",
                "mime_type": app.state.media[media_id][1],
                "id": media_id,
            }
        )

    return app


async def _post_status(
    target: tuple[str, str], phone_number_id: str, wamid: str, payload: dict[str, Any]
) -> None:
    url, secret = target
    status: dict[str, Any] = {
        "id": wamid,
        "status": "sent",
        "timestamp": str(int(time.time())),
        "recipient_id": payload.get("to"),
    }
    if payload.get("biz_opaque_callback_data"):
        status["biz_opaque_callback_data"] = payload["biz_opaque_callback_data"]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": phone_number_id},
        "statuses": [status],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(timeout=10) as client:
        with contextlib.suppress(httpx.HTTPError):  # the webhook may be gone (a test ended)
            await client.post(
                f"{url}/webhook",
                content=body,
                headers={"content-type": "application/json", "x-hub-signature-256": signature},
            )


def sent_to(app: FastAPI, wa_id: str) -> list[dict[str, Any]]:
    return [m for m in app.state.sent if m["to"] == wa_id]


def text_of(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    return str(message["interactive"]["body"]["text"])
