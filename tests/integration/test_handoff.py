"""Human handoff over HTTP: a customer asks for a person, the bot goes silent, a person takes the
conversation in the inbox API, replies on WhatsApp, and gives it back to a bot that knows what
was said. Real app and workers, embedded Redis, moto, the Graph API stub."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from langchain_core.messages import AIMessage

from checkpointers import redis_saver
from graph import compile_supervisor
from server import AccountRegistry, BusinessAccount, create_app
from server.accounts import HandoffTemplate
from stores import whatsapp_user_id
from stubs import BackgroundServer, sent_to, text_of
from tests.integration.conftest import new_wa_id
from tests.integration.whatsapp import (
    NUMBER,
    SECRET,
    make_channel,
    message,
    payload,
    post,
    wait_for,
)

pytestmark = pytest.mark.integration
TOKEN = "inbox-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def alerts() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/alerts")
    async def alert(request: Request) -> dict[str, str]:
        received.append(
            {"body": await request.body(), "signature": request.headers.get("x-signature-256")}
        )
        return {"ok": "yes"}

    server = BackgroundServer(app)
    server.start()
    yield received, f"{server.url}/alerts"
    server.stop()


def _app(settings, stores, demo, graph_url: str, alerts_url: str) -> BackgroundServer:
    channel = make_channel(settings, stores, demo, graph_url, workers=1)
    channel.config = channel.config.__class__(
        **{
            **channel.config.__dict__,
            "inbox_token": TOKEN,
            "local_mode": False,
            "handoff_webhook_url": alerts_url,
            "handoff_waiting_update_seconds": 2.0,
            "handoff_assigned_idle_seconds": 3.0,
        }
    )
    channel.accounts = AccountRegistry(
        [
            BusinessAccount(
                account_id="default",
                account_name="Hogar",
                phone_number_id=NUMBER,
                access_token="test-token",
                handoff_template=HandoffTemplate(name="back_in_touch", language="en"),
            )
        ]
    )
    return BackgroundServer(create_app(channel))


@pytest.fixture(scope="module")
def inbox(settings, stores, demo, graph_api, alerts) -> Iterator[str]:
    server = _app(settings, stores, demo, graph_api[1], alerts[1])
    server.start()
    yield server.url
    server.stop()


def api(base: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{base}/inbox/api{path}", headers=AUTH, timeout=30, **kwargs)


def test_a_person_takes_over_and_gives_back(
    inbox, graph_api, stores, alerts, settings, demo
) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    thread = f"{NUMBER}:{wa_id}"
    post(inbox, payload(message(wa_id, text={"body": "I want to talk to a person"})))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="the bot's answer to the request")
    waiting = wait_for(
        lambda: [
            c
            for c in api(inbox, "GET", "/conversations?status=waiting").json()
            if c["thread_id"] == thread
        ],
        what="the conversation waiting in the inbox",
    )[0]
    assert waiting["state"] == "waiting"
    # The helpdesk was told, with a signature it can check.
    alert = wait_for(lambda: [a for a in alerts[0] if thread.encode() in a["body"]], what="alert")[
        0
    ]
    digest = hmac.new(SECRET.encode(), alert["body"], hashlib.sha256).hexdigest()
    assert alert["signature"] == f"sha256={digest}"

    # While waiting the bot is silent; the message reaches the inbox.
    post(inbox, payload(message(wa_id, text={"body": "my hub shows a red light"})))
    detail = wait_for(
        lambda: (d := api(inbox, "GET", f"/conversations/{thread}").json())["last_message"] and d,
        what="the customer's message in the inbox",
    )
    assert detail["last_message"] == "my hub shows a red light"
    bot_replies = [m for m in sent_to(stub, wa_id) if "red light" in text_of(m)]
    assert not bot_replies and not [
        m for m in sent_to(stub, wa_id) if m.get("type") == "text" and "hub" in text_of(m).lower()
    ]

    taken = api(inbox, "POST", f"/conversations/{thread}/take", json={"agent": "Marta"}).json()
    assert taken["state"] == "assigned" and taken["agent"] == "Marta"
    long = ("Please unplug the hub for ten seconds and plug it back in. " * 90).strip()
    sent = api(inbox, "POST", f"/conversations/{thread}/messages", json={"text": long})
    assert sent.status_code == 200 and sent.json()["sent"] == 2
    pieces = [m for m in sent_to(stub, wa_id) if "unplug the hub" in text_of(m)]
    assert len(pieces) == 2 and all(len(text_of(p)) <= 4096 for p in pieces)
    logged = [
        m
        for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
        if m.role == "human_agent"
    ]
    assert logged and logged[0].metadata["human_agent"] == "Marta"

    assert api(inbox, "POST", f"/conversations/{thread}/resolve").json()["state"] == "resolved"
    post(inbox, payload(message(wa_id, text={"body": "What are your opening hours?"})))
    wait_for(
        lambda: [m for m in sent_to(stub, wa_id) if "Monday" in text_of(m)],
        what="the bot answering again",
    )
    state = wait_for(
        lambda: (
            (st := _state(settings, demo, thread))
            and any(isinstance(m, AIMessage) and m.name == "human_agent" for m in st)
            and st
        ),
        what="the person's words in the bot's context",
    )
    assert any("unplug the hub" in str(m.content) for m in state)
    assert api(inbox, "GET", f"/conversations/{thread}").json()["state"] == "bot"


def _state(settings, demo, thread: str) -> list[Any]:
    """The thread's messages as the bot will read them (its checkpoint in Redis)."""
    with redis_saver(settings.redis_url, settings.session_ttl_minutes) as saver:
        graph = compile_supervisor(demo, saver)
        snapshot = graph.get_state({"configurable": {"thread_id": thread}})
    return list(snapshot.values.get("messages", []))


def test_the_inbox_needs_its_token(inbox) -> None:
    assert httpx.get(f"{inbox}/inbox/api/conversations").status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert httpx.get(f"{inbox}/inbox/api/conversations", headers=wrong).status_code == 401
    assert api(inbox, "GET", "/conversations").status_code == 200
    assert "Inbox" in httpx.get(f"{inbox}/inbox").text


def test_outside_the_24_hour_window_the_inbox_offers_the_template(inbox, graph_api) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    thread = f"{NUMBER}:{wa_id}"
    api(inbox, "POST", f"/conversations/{thread}/take", json={"agent": "Marta"})
    stub.state.failures = [(400, 131047)]
    refused = api(inbox, "POST", f"/conversations/{thread}/messages", json={"text": "hello?"})
    assert refused.status_code == 409
    assert refused.json()["template"] == {"name": "back_in_touch", "language": "en"}
    sent = api(inbox, "POST", f"/conversations/{thread}/messages", json={"template": True})
    assert sent.status_code == 200
    template = sent_to(stub, wa_id)[-1]
    assert template["type"] == "template" and template["template"]["name"] == "back_in_touch"


def test_timeouts_update_the_waiting_and_release_the_idle(inbox, graph_api) -> None:
    stub, _ = graph_api
    waiting, idle = new_wa_id(), new_wa_id()
    for wa_id in (waiting, idle):
        post(inbox, payload(message(wa_id, text={"body": "Quiero hablar con una persona"})))
        wait_for(lambda w=wa_id: len(sent_to(stub, w)) == 1, what="the escalation answer")
    api(inbox, "POST", f"/conversations/{NUMBER}:{idle}/take", json={"agent": "Marta"})
    wait_for(lambda: len(sent_to(stub, waiting)) == 2, timeout=20, what="the waiting update")
    assert "esperar" in text_of(sent_to(stub, waiting)[1])
    released = wait_for(
        lambda: api(inbox, "GET", f"/conversations/{NUMBER}:{idle}").json()["state"] == "resolved",
        timeout=20,
        what="the idle conversation back to the bot",
    )
    assert released


def test_handoff_state_survives_a_restart(settings, stores, demo, graph_api, alerts) -> None:
    wa_id = new_wa_id()
    thread = f"{NUMBER}:{wa_id}"
    first = _app(settings, stores, demo, graph_api[1], alerts[1])
    first.start()
    try:
        api(first.url, "POST", f"/conversations/{thread}/take", json={"agent": "Luis"})
    finally:
        first.stop()
    time.sleep(0.5)
    second = _app(settings, stores, demo, graph_api[1], alerts[1])
    second.start()
    try:
        detail = api(second.url, "GET", f"/conversations/{thread}").json()
        assert detail["state"] == "assigned" and detail["agent"] == "Luis"
    finally:
        second.stop()
