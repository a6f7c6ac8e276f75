"""The local simulator: a WhatsApp-like page (`GET /`) to chat as a demo customer.

The page asks this server to send a message; the server builds Meta's payload, signs it with the
app secret and hands it to its own `/webhook` in process (never to a host the caller names), so the
message takes the production path. It is served only in local mode (no `WHATSAPP_API_BASE_URL`)
and only to clients on this machine: it can act as any customer.
Replies go to the local outbox (no `WHATSAPP_API_BASE_URL`), which the page long-polls.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from importlib import resources
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from server.webhook import signature_for

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})


def loopback_only(request: Request) -> None:
    """The simulator acts as any customer: only a browser on this machine may use it."""
    host = request.client.host if request.client else ""
    if host not in LOOPBACK:
        raise HTTPException(status_code=403, detail="the simulator answers only on this machine")


router = APIRouter(tags=["simulator"], dependencies=[Depends(loopback_only)])


class SimulatedMessage(BaseModel):
    wa_id: Annotated[str, Field(pattern=r"^\d{6,15}$")]
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    name: str = "Simulator"


def webhook_payload(phone_number_id: str, wa_id: str, name: str, text: str) -> dict[str, Any]:
    """A text-message notification exactly as Meta sends it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "simulator",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550100000",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.sim.{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    html = (resources.files("server") / "static" / "simulator.html").read_text("utf-8")
    return HTMLResponse(html)


@router.get("/simulator/customers")
async def customers(request: Request) -> list[dict[str, Any]]:
    listed = await request.app.state.stores.customers.alist_customers()
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
async def send(request: Request, message: SimulatedMessage) -> JSONResponse:
    """Sign the message as Meta would and hand it to this app's own `/webhook`, in process: the
    signed body never leaves the process, and no caller-named host is ever contacted."""
    config = request.app.state.config
    body = json.dumps(
        webhook_payload(config.default_phone_number_id, message.wa_id, message.name, message.text)
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
    request: Request,
    wa_id: Annotated[str, Query(pattern=r"^\d{6,15}$")],
    after: float = 0.0,
    wait: Annotated[float, Query(ge=0, le=25)] = 0.0,
) -> list[dict[str, Any]]:
    box = request.app.state.outbox
    if box is None:
        return []
    messages = box.for_user(wa_id, after)
    if not messages and wait:
        try:
            async with asyncio.timeout(wait):
                await box.wait_for_new(wa_id, after)
        except TimeoutError:
            return []
        messages = box.for_user(wa_id, after)
    return [
        {
            "id": m.id,
            "at": m.at,
            "text": m.text,
            "type": m.payload.get("type"),
            "options": _options(m.payload),
        }
        for m in messages
    ]


def _options(payload: dict[str, Any]) -> list[str]:
    action = payload.get("interactive", {}).get("action", {})
    if "buttons" in action:
        return [b["reply"]["title"] for b in action["buttons"]]
    rows = [r for section in action.get("sections", []) for r in section.get("rows", [])]
    return [r["title"] + (r.get("description") or "") for r in rows]
