"""A change through the WhatsApp webhook: proposed with reply buttons, applied once on the tap,
never again on a redelivered or replayed confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from stores import Stores
from stubs.graph_api import sent_to, text_of
from tests.integration.whatsapp import app_url, graph_api, message, payload, post, wait_for

pytestmark = pytest.mark.integration
__all__ = ["app_url", "graph_api"]  # module fixtures of the channel tests


def _button_ids(sent: dict[str, Any]) -> list[str]:
    action = sent.get("interactive", {}).get("action", {})
    return [b["reply"]["id"] for b in action.get("buttons", [])]


def _tap(wa_id: str, button_id: str, title: str, message_id: str) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return message(wa_id, kind="interactive", message_id=message_id, interactive=reply)


def test_a_tap_on_yes_applies_the_change_once(app_url, graph_api, stores: Stores, new_customer):
    stub, _ = graph_api
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    post(app_url, payload(message(wa_id, text={"body": "Move my Speaker 1 to the bedroom"})))
    proposal = wait_for(lambda: sent_to(stub, wa_id), what="the proposal")[0]
    assert text_of(proposal) == "Move your Speaker 1 from the kitchen to the bedroom?"
    yes_id, no_id = _button_ids(proposal)
    assert yes_id.endswith(":yes") and no_id.endswith(":no")
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and [d.location for d in stored.devices] == ["living_room", "kitchen"]

    tap = payload(_tap(wa_id, yes_id, "Yes", "wamid.tap.yes.1"))
    post(app_url, tap)
    done = wait_for(lambda: sent_to(stub, wa_id)[1:], what="the confirmation reply")[0]
    assert text_of(done) == "Done, your Speaker 1 is now in the bedroom."
    moved = stores.customers.get_customer(customer.id)
    assert moved is not None and [d.location for d in moved.devices] == ["living_room", "bedroom"]

    post(app_url, tap)  # Meta redelivers the same webhook
    post(app_url, payload(_tap(wa_id, yes_id, "Yes", "wamid.tap.yes.2")))  # a replayed tap
    wait_for(lambda: len(sent_to(stub, wa_id)) >= 3, what="the answer to the replayed tap")
    assert stores.customers.get_customer(customer.id) == moved, "a replay changes nothing"
