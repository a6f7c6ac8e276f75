"""A change needs the customer's yes: proposals, confirmations bound to them, cancellations,
replays, permissions at execution time (the supervisor graph on the embedded stack)."""

from __future__ import annotations

import os

import httpx
import pytest

from stores import Stores, whatsapp_user_id
from tests.integration.turns import say

pytestmark = pytest.mark.integration


def locations(stores: Stores, customer_id: str) -> list[str]:
    stored = stores.customers.get_customer(customer_id)
    assert stored is not None
    return [d.location for d in stored.devices]


def refunds(customer_id: str) -> list[dict[str, object]]:
    url, token = os.environ["BILLING_API_URL"], os.environ["BILLING_API_TOKEN"]
    response = httpx.get(
        f"{url}/customers/{customer_id}/refunds", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    result: list[dict[str, object]] = response.json()
    return result


async def test_a_wifi_problem_changes_nothing(supervisor, stores: Stores, new_customer):
    customer = new_customer("premium", devices=2)
    result = await say(supervisor, customer.phone[1:], "hey, my speaker isn't connecting to wifi")
    assert "manage_music_service" not in result.tools and result.buttons == []
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.music_services == []


async def test_an_unknown_room_is_asked_about_never_guessed(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    result = await say(
        supervisor, customer.phone[1:], "I need to relocate my speaker to my new apartment"
    )
    assert result.buttons == [] and result.pending is None
    assert result.reply.startswith("Which room should it go to:")
    assert locations(stores, customer.id) == ["living_room", "kitchen"]


async def test_an_ambiguous_device_is_asked_about(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    result = await say(supervisor, customer.phone[1:], "Set the volume to 20")
    assert result.reply == "Which device should I set to volume 20: Speaker 0 or Speaker 1?"
    assert result.pending is None


async def test_another_customers_device_is_never_touched(supervisor, stores, new_customer):
    customer = new_customer("basic", devices=1)
    result = await say(supervisor, customer.phone[1:], "set the volume of dev_003 to 0")
    assert result.pending is None
    assert result.reply == "Which device should I set to volume 0: Speaker 0?"
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.devices[0].volume == 50


async def test_a_yes_applies_exactly_the_proposal(supervisor, stores: Stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    proposed = await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    assert proposed.reply == "Move your Speaker 1 from the kitchen to the bedroom?"
    assert locations(stores, customer.id) == ["living_room", "kitchen"]
    (yes_id, yes_title), (no_id, _) = proposed.buttons
    assert yes_title == "Yes" and yes_id.startswith("confirm:") and no_id.endswith(":no")
    done = await say(supervisor, wa_id, "Yes", reply_id=yes_id)
    assert done.reply == "Done, your Speaker 1 is now in the bedroom."
    assert locations(stores, customer.id) == ["living_room", "bedroom"]
    before = stores.customers.get_customer(customer.id)
    replayed = await say(supervisor, wa_id, "Yes", reply_id=yes_id)
    assert replayed.pending is None and "set_volume" not in replayed.tools
    after = stores.customers.get_customer(customer.id)
    assert before == after, "a replayed confirmation runs nothing"


async def test_no_cancels(supervisor, stores: Stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    cancelled = await say(supervisor, wa_id, "no")
    assert cancelled.reply == "OK, I haven't changed anything."
    assert locations(stores, customer.id) == ["living_room", "kitchen"]
    later = await say(supervisor, wa_id, "yes")
    assert later.pending is None and later.reply.startswith("OK. Is there anything else")
    assert locations(stores, customer.id) == ["living_room", "kitchen"]


async def test_a_different_message_cancels_and_is_answered(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    other = await say(supervisor, wa_id, "What are your opening hours?")
    assert other.agent_id == "general" and other.pending is None
    assert "search_knowledge_base" in other.tools
    later = await say(supervisor, wa_id, "yes")
    assert later.pending is None
    assert locations(stores, customer.id) == ["living_room", "kitchen"]


async def test_a_yes_to_another_proposal_runs_nothing(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    first = await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    second = await say(supervisor, wa_id, "Move my Speaker 0 to the office")
    assert second.pending is not None and second.buttons[0][0] != first.buttons[0][0]
    stale = await say(supervisor, wa_id, "Yes", reply_id=first.buttons[0][0])
    assert stale.reply.startswith("That confirmation belongs to a request")
    assert locations(stores, customer.id) == ["living_room", "kitchen"]


async def test_permissions_are_checked_again_when_the_change_runs(
    supervisor, stores: Stores, new_customer
):
    customer = new_customer("premium", devices=1)
    wa_id = customer.phone[1:]
    proposed = await say(supervisor, wa_id, "Move my speaker to the bedroom")
    assert proposed.pending is not None
    stores.customers.put_customer(customer.model_copy(update={"service_level": "basic"}))
    refused = await say(supervisor, wa_id, "yes", reply_id=proposed.buttons[0][0])
    assert "not included in your Basic plan" in refused.reply
    assert locations(stores, customer.id) == ["living_room"]


async def test_a_question_about_refunds_never_opens_one(supervisor):
    before = refunds("cust_003")
    result = await say(supervisor, "15550003", "What is your refund policy?")
    assert "request_refund" not in result.tools and result.pending is None
    assert refunds("cust_003") == before


async def test_a_refund_runs_only_after_a_yes(supervisor):
    wa_id = "15550002"
    before = refunds("cust_002")
    proposed = await say(supervisor, wa_id, "I was charged twice, I want a refund")
    assert proposed.pending is not None and proposed.tools == ["request_refund"]
    assert proposed.reply.startswith("Open a refund request for invoice INV-1102 (59.98 USD)")
    assert refunds("cust_002") == before
    done = await say(supervisor, wa_id, "ok", reply_id="")
    assert len(refunds("cust_002")) == len(before) + 1
    assert refunds("cust_002")[-1]["reason"] == proposed.pending["arguments"]["reason"]
    assert "INV-1102" in done.reply and "under review" in done.reply


async def test_a_yes_in_other_words_applies_the_proposal(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    done = await say(supervisor, wa_id, "yep, go for it")
    assert done.reply == "Done, your Speaker 1 is now in the bedroom."
    assert locations(stores, customer.id) == ["living_room", "bedroom"]
    # A yes with another request in it is no yes: the proposal is cancelled, nothing moves.
    await say(supervisor, wa_id, "Move my Speaker 1 to the office")
    other = await say(supervisor, wa_id, "yes but the kitchen one")
    assert other.reply != "Done, your Speaker 1 is now in the office."
    assert locations(stores, customer.id) == ["living_room", "bedroom"]


async def test_a_spanish_yes_in_other_words_applies_the_proposal(supervisor, stores, new_customer):
    customer = new_customer("premium", language="es", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Conecta Spotify a mi cuenta")
    done = await say(supervisor, wa_id, "si dale, hacelo porfa")
    assert done.reply == "Listo, Spotify quedó conectado a tu cuenta."
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.music_services == ["spotify"]


async def test_spanish_proposal_and_confirmation(supervisor, stores, new_customer):
    customer = new_customer("premium", language="es", devices=2)
    wa_id = customer.phone[1:]
    proposed = await say(supervisor, wa_id, "Conecta Spotify a mi cuenta")
    assert proposed.reply == "¿Conecto Spotify a tu cuenta?"
    assert [title for _, title in proposed.buttons] == ["Sí", "No"]
    done = await say(supervisor, wa_id, "vale")
    assert done.reply == "Listo, Spotify quedó conectado a tu cuenta."
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.music_services == ["spotify"]


async def test_the_log_holds_the_proposal_and_the_answer(supervisor, stores: Stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom", message_id="wamid.ask1")
    await say(supervisor, wa_id, "yes", message_id="wamid.yes1")
    logged = stores.conversations.user_messages(whatsapp_user_id(wa_id))
    assert [(m.direction, m.content) for m in logged] == [
        ("inbound", "Move my Speaker 1 to the bedroom"),
        ("outbound", "Move your Speaker 1 from the kitchen to the bedroom?"),
        ("inbound", "yes"),
        ("outbound", "Done, your Speaker 1 is now in the bedroom."),
    ]
    assert logged[2].message_id == "wamid.yes1"


async def test_a_cancelled_proposal_logs_no_unsent_reply(supervisor, stores, new_customer):
    customer = new_customer("premium", devices=2)
    wa_id = customer.phone[1:]
    await say(supervisor, wa_id, "Move my Speaker 1 to the bedroom")
    await say(supervisor, wa_id, "What are your opening hours?")
    logged = stores.conversations.user_messages(whatsapp_user_id(wa_id))
    texts = [m.content for m in logged]
    assert "OK, I haven't changed anything." not in texts
    assert texts[:3] == [
        "Move my Speaker 1 to the bedroom",
        "Move your Speaker 1 from the kitchen to the bedroom?",
        "What are your opening hours?",
    ]


async def test_a_refund_names_only_an_invoice_on_the_record(supervisor):
    wa_id = "15550002"
    before = refunds("cust_002")
    wrong = await say(supervisor, wa_id, "I want a refund of invoice INV-9999, I was charged twice")
    assert wrong.pending is None and wrong.tools == ["request_refund"]
    assert "INV-9999" not in wrong.reply and refunds("cust_002") == before
    proposed = await say(supervisor, wa_id, "I want a refund of invoice INV-1102, charged twice")
    assert proposed.reply.startswith("Open a refund request for invoice INV-1102 (59.98 USD)")
    await say(supervisor, wa_id, "no")
    assert refunds("cust_002") == before
