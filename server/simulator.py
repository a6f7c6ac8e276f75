"""The local simulator: a WhatsApp-like page (`GET /`) to chat as a demo customer.

The page asks this server to send a message (text, a tapped reply button, a location, an image or
a voice note); the server builds Meta's payload, signs it with the app secret and hands it to its
own `/webhook` in process (never to a host the caller names), so the message takes the production
path. It is served only in local mode (no `WHATSAPP_API_BASE_URL`) and only to clients on this
machine: it can act as any customer.

Replies go to the local outbox in Redis, which the page long-polls; each comes back with the agent
that answered, the tools it ran (from the conversation log) and the thread's handoff state.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from importlib import resources
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, model_validator

from server.deps import ConfigDep, HandoffDep, OutboxDep, StoresDep
from server.outbox import LocalOutbox, OutboxMessage
from server.queue import CALLBACK_PREFIX
from server.webhook import signature_for
from stores import Stores

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
MAX_MEDIA_BYTES = 5 * 1024 * 1024


def loopback_only(request: Request) -> None:
    """The simulator acts as any customer: only a browser on this machine may use it."""
    host = request.client.host if request.client else ""
    if host not in LOOPBACK:
        raise HTTPException(status_code=403, detail="the simulator answers only on this machine")


router = APIRouter(tags=["simulator"], dependencies=[Depends(loopback_only)])


class SimulatedMessage(BaseModel):
    wa_id: Annotated[str, Field(pattern=r"^\d{6,15}$")]
    kind: Literal["text", "interactive", "location", "image", "audio"] = "text"
    text: Annotated[str, Field(max_length=4096)] = ""
    name: str = "Simulator"
    reply_id: Annotated[str, Field(max_length=256)] = ""  # the button or row tapped
    latitude: Annotated[float, Field(ge=-90, le=90)] = 0.0
    longitude: Annotated[float, Field(ge=-180, le=180)] = 0.0
    media_base64: str = ""
    mime_type: Annotated[str, Field(max_length=100)] = ""

    @model_validator(mode="after")
    def _has_content(self) -> SimulatedMessage:
        if self.kind in ("text", "interactive") and not self.text.strip():
            raise ValueError("text: write something")
        if self.kind in ("image", "audio") and not self.media_base64:
            raise ValueError("media_base64: attach the file")
        return self


def webhook_payload(
    phone_number_id: str, wa_id: str, name: str, text: str, **content: Any
) -> dict[str, Any]:
    """A notification exactly as Meta sends it: a text message, or `type` and its content."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": f"wamid.sim.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    if content:
        message.pop("text")
        message.update(content)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "simulator", "changes": [{"field": "messages", "value": value}]}],
    }


async def _content(message: SimulatedMessage, outbox: LocalOutbox | None) -> dict[str, Any]:
    """Meta's message content for a non-text kind (media stored where the workers fetch it)."""
    if message.kind == "interactive":
        reply = {"id": message.reply_id or message.text, "title": message.text[:20]}
        return {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": reply},
        }
    if message.kind == "location":
        place = {"latitude": message.latitude, "longitude": message.longitude, "name": message.text}
        return {"type": "location", "location": place}
    if outbox is None:
        raise HTTPException(status_code=409, detail="media needs the local outbox")
    try:
        content = base64.b64decode(message.media_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(status_code=422, detail="media_base64: not base64") from None
    if len(content) > MAX_MEDIA_BYTES:
        raise HTTPException(status_code=413, detail="media: at most 5 MB in the simulator")
    default = "image/jpeg" if message.kind == "image" else "audio/ogg"
    mime = message.mime_type or default
    media_id = await outbox.put_media(content, mime)
    media: dict[str, Any] = {"id": media_id, "mime_type": mime}
    if message.kind == "image" and message.text:
        media["caption"] = message.text
    return {"type": message.kind, message.kind: media}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    html = (resources.files("server") / "static" / "simulator.html").read_text("utf-8")
    return HTMLResponse(html)


@router.get("/simulator/customers")
async def customers(stores: StoresDep) -> list[dict[str, Any]]:
    listed = await stores.customers.alist_customers()
    return [
        {
            "wa_id": c.phone.lstrip("+"),
            "name": c.name,
            "service_level": c.service_level,
            "language": c.language,
        }
        for c in listed
    ]


@router.post("/simulator/messages")
async def send(
    request: Request, message: SimulatedMessage, config: ConfigDep, box: OutboxDep
) -> JSONResponse:
    """Sign the message as Meta would and hand it to this app's own `/webhook`, in process: the
    signed body never leaves the process, and no caller-named host is ever contacted."""
    content = {} if message.kind == "text" else await _content(message, box)
    body = json.dumps(
        webhook_payload(
            config.default_phone_number_id, message.wa_id, message.name, message.text, **content
        )
    ).encode()
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as client:
        response = await client.post(
            "/webhook",
            content=body,
            headers={
                "content-type": "application/json",
                "x-hub-signature-256": signature_for(body, config.app_secret),
            },
        )
    return JSONResponse(
        {"webhook_status": response.status_code, "sent_at": time.time()},
        status_code=200 if response.status_code == 200 else 502,
    )


@router.get("/simulator/outbox")
async def outbox(
    stores: StoresDep,
    box: OutboxDep,
    wa_id: Annotated[str, Query(pattern=r"^\d{6,15}$")],
    after: float = 0.0,
    wait: Annotated[float, Query(ge=0, le=25)] = 0.0,
) -> list[dict[str, Any]]:
    if box is None:
        return []
    messages = await box.wait(wa_id, after, wait) if wait else await box.messages(wa_id, after)
    return [await _described(stores, m) for m in messages]


async def _described(stores: Stores, message: OutboxMessage) -> dict[str, Any]:
    """The message, the agent that wrote it and the tools it ran (from the conversation log)."""
    logged = None
    # An agent's reply is logged before it is sent, under `<inbound id>:reply` (the send's
    # callback tag names the inbound id); Meta's id finds it only once the send is recorded.
    tag = str(message.payload.get("biz_opaque_callback_data") or "")
    candidates = [message.id]
    if tag.startswith(CALLBACK_PREFIX):
        candidates.insert(0, f"{tag.removeprefix(CALLBACK_PREFIX)}:reply")
    try:
        for candidate in candidates:
            if (logged := await stores.conversations.aget(candidate)) is not None:
                break
    except Exception:  # the log is a courtesy here; the reply itself is what matters
        logged = None
    return {
        "id": message.id,
        "at": message.at,
        "text": message.text,
        "type": message.payload.get("type"),
        "options": message.options,
        "agent": logged.agent_id if logged else None,
        "tools": (logged.metadata.get("tools") if logged else None) or [],
        "role": logged.role if logged else None,
    }


@router.get("/simulator/state")
async def state(
    config: ConfigDep, handoff: HandoffDep, wa_id: Annotated[str, Query(pattern=r"^\d{6,15}$")]
) -> dict[str, Any]:
    """Who answers this customer now: the bot, or a person (and where the inbox is)."""
    number = config.default_phone_number_id
    record = await handoff.record(number, wa_id)
    return {
        "thread_id": f"{number}:{wa_id}",
        "handoff": record.state,
        "agent": record.agent or None,
        "inbox": f"/inbox?thread={number}:{wa_id}",
    }
