"""The agent inbox: people of the business take conversations over, reply, and give them back.

`GET /inbox` is the page; `/inbox/api/...` the JSON API it uses, also for helpdesk integrations,
authenticated with `Authorization: Bearer <INBOX_TOKEN>` (401 without it). With no token
configured the inbox is served only in local mode, and only to this machine.
"""

from __future__ import annotations

import hmac
import uuid
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from server.accounts import AccountRegistry, BusinessAccount
from server.deps import AccountsDep, ConfigDep, HandoffDep, RepliesDep, StoresDep
from server.handoff import Handoff, HandoffRecord
from server.masking import mask_phone
from server.replies import Reply
from server.whatsapp import OutsideWindowError, SendOutcomeUnknownError
from stores import whatsapp_user_id

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _authorized(request: Request, config: ConfigDep) -> None:
    token = config.inbox_token
    if token is None:  # local mode without a token: this machine only
        host = request.client.host if request.client else ""
        if host in LOOPBACK:
            return
        raise HTTPException(status_code=401, detail="set INBOX_TOKEN to use the inbox remotely")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


page_router = APIRouter(tags=["inbox"])
router = APIRouter(prefix="/inbox/api", tags=["inbox"], dependencies=[Depends(_authorized)])


class TakeRequest(BaseModel):
    agent: Annotated[str, Field(min_length=1, max_length=80)]


class MessageRequest(BaseModel):
    text: Annotated[str, Field(max_length=20_000)] = ""
    agent: Annotated[str, Field(max_length=80)] = ""
    template: bool = False
    client_message_id: Annotated[str, Field(max_length=120)] = ""


@page_router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse((resources.files("server") / "static" / "inbox.html").read_text("utf-8"))


def _summary(record: HandoffRecord, name: str | None) -> dict[str, Any]:
    return {
        "thread_id": record.thread_id,
        "phone_number_id": record.phone_number_id,
        "wa_id": record.wa_id,
        "customer": name,
        "state": record.state,
        "agent": record.agent or None,
        "reason": record.reason or None,
        "since": record.since,
        "updated": record.updated,
        "last_message": record.last_text or None,
    }


async def _record(
    thread_id: str, handoff: Handoff, accounts: AccountRegistry
) -> tuple[HandoffRecord, BusinessAccount]:
    number, _, wa_id = thread_id.partition(":")
    account = accounts.get(number)
    if account is None or not wa_id.isdigit():
        raise HTTPException(status_code=404, detail=f"no conversation {mask_phone(wa_id)}")
    record = await handoff.store.get(thread_id)
    if record is None:
        record = await handoff.record(number, wa_id)
    return record, account


@router.get("/conversations")
async def conversations(
    handoff: HandoffDep,
    accounts: AccountsDep,
    stores: StoresDep,
    status: Annotated[Literal["waiting", "assigned", "resolved", "bot"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    listed = []
    for account in accounts.all():
        for record in await handoff.store.records(account.phone_number_id):
            if status is not None and record.state != status:
                continue
            customer = await stores.customers.afind_by_phone(record.wa_id, account.phone_number_id)
            listed.append(_summary(record, customer.name if customer else None))
    return sorted(listed, key=lambda c: -float(c["updated"]))


@router.get("/conversations/{thread_id}")
async def conversation(
    thread_id: str, handoff: HandoffDep, accounts: AccountsDep, stores: StoresDep
) -> dict[str, Any]:
    record, account = await _record(thread_id, handoff, accounts)
    customer = await stores.customers.afind_by_phone(record.wa_id, account.phone_number_id)
    level = await stores.customers.aget_service_level(customer.service_level) if customer else None
    messages = await stores.conversations.auser_messages(whatsapp_user_id(record.wa_id))
    owner = stores.conversations.default_account
    transcript = [
        {
            "at": m.timestamp,
            "direction": m.direction,
            "role": m.role,
            "content": m.content,
            "agent_id": m.agent_id,
            "tools": m.metadata.get("tools"),
            "route_confidence": m.metadata.get("route_confidence"),
            "intent": m.metadata.get("intent"),
            "human_agent": m.metadata.get("human_agent"),
        }
        for m in messages
        if (m.business_account_id or owner) == account.phone_number_id
    ]
    return {
        **_summary(record, customer.name if customer else None),
        "customer_record": customer.model_dump() if customer else None,
        "service_level": level.model_dump() if level else None,
        "transcript": transcript[-200:],
    }


@router.post("/conversations/{thread_id}/take")
async def take(
    thread_id: str, body: TakeRequest, handoff: HandoffDep, accounts: AccountsDep
) -> dict[str, Any]:
    record, _ = await _record(thread_id, handoff, accounts)
    record = await handoff.change(record, "assigned", agent=body.agent)
    return _summary(record, None)


@router.post("/conversations/{thread_id}/resolve")
async def resolve(thread_id: str, handoff: HandoffDep, accounts: AccountsDep) -> dict[str, Any]:
    record, _ = await _record(thread_id, handoff, accounts)
    record = await handoff.change(record, "resolved")
    return _summary(record, None)


@router.post("/conversations/{thread_id}/messages", response_model=None)
async def send(
    thread_id: str,
    body: MessageRequest,
    handoff: HandoffDep,
    accounts: AccountsDep,
    replies: RepliesDep,
) -> dict[str, Any] | JSONResponse:
    """A person's message to the customer, through the bot's sender (split, paced, sent once
    per `client_message_id`). Outside the 24-hour window Meta refuses free text: 409, with the
    account's approved template to send instead (`{"template": true}`)."""
    record, account = await _record(thread_id, handoff, accounts)
    agent = body.agent or record.agent or "team"
    template = account.handoff_template
    if body.template:
        if template is None:
            raise HTTPException(status_code=422, detail="this account has no handoff_template")
        reply = Reply("", template=(template.name, template.language, template.parameters))
        text = f"[template {template.name}]"
    elif body.text.strip():
        reply, text = Reply(body.text.strip()), body.text.strip()
    else:
        raise HTTPException(status_code=422, detail="text: write something, or send the template")
    key = f"inbox.{body.client_message_id or uuid.uuid4().hex}"
    try:
        wamids = await replies.send_keyed(
            account, record.wa_id, key, reply, raise_outside_window=True
        )
    except SendOutcomeUnknownError:
        return JSONResponse(
            {
                "error": "Meta did not confirm the send: send it again with the same "
                "client_message_id, and it goes out only if Meta did not take it"
            },
            status_code=502,
        )
    except OutsideWindowError:
        offer = (
            {"name": template.name, "language": template.language} if template is not None else None
        )
        return JSONResponse(
            {
                "error": "outside the 24-hour customer-service window: Meta accepts only an "
                "approved template message",
                "template": offer,
            },
            status_code=409,
        )
    if record.state != "assigned":
        record = await handoff.change(record, "assigned", agent=agent)
    await handoff.person_wrote(record, agent, text)
    return {"sent": len(wamids), "wamids": wamids, "state": record.state}
