"""What the eleventh round reads, through the supervisor graph on the embedded stack: a request
for a person in the middle of a billing conversation, a product's name in a price question, an
offer for a group no document names, a question about a refund (no proposal), and "the same for
the other one" after a change. Each fails with its mechanism switched off. Unknown numbers, or a
demo customer whose proposals are all declined, so no record changes (other tests read them)."""

from __future__ import annotations

import pytest

from tests.integration.turns import say, unknown_number

pytestmark = pytest.mark.integration


async def test_a_request_for_a_person_leaves_a_billing_conversation(supervisor):
    wa_id = unknown_number()
    bill = await say(supervisor, wa_id, "cuanto es la factura de este mes?")
    assert bill.agent_id == "billing"
    person = await say(supervisor, wa_id, "bueno mejor que me llame alguien por lo de la factura")
    assert person.agent_id == "general"
    assert "escalate_to_human" in person.tools, person.tools


async def test_a_products_name_in_a_price_question_is_a_sales_question(supervisor):
    result = await say(supervisor, unknown_number(), "ngl the hub display looks sick, how much fr")
    assert result.agent_id == "sales"
    assert "$129" in result.reply, result.reply


async def test_an_offer_for_a_group_no_document_names_is_not_another_groups(supervisor):
    result = await say(supervisor, unknown_number(), "hay algun descuento pa los jubilados?")
    assert result.agent_id == "sales"
    assert "20%" not in result.reply and "no tengo" in result.reply.lower(), result.reply
    students = await say(supervisor, unknown_number(), "hay descuento pa universitarios?")
    assert "20%" in students.reply, students.reply


async def test_a_question_about_a_refund_proposes_none(supervisor):
    wa_id = "15550002"  # John (premium): INV-1102 charged twice
    charged = await say(supervisor, wa_id, "i think i got charged twice on my last bill")
    assert charged.agent_id == "billing" and charged.pending is None, charged.reply
    asked = await say(supervisor, wa_id, "would i get all of it back or just part?")
    assert asked.agent_id == "billing"
    assert "request_refund" not in asked.tools and asked.pending is None, asked.reply


async def test_the_same_for_another_device_repeats_the_change_proposed_before(supervisor):
    wa_id = "15550005"  # Carlos (premium): Altavoz Cocina at 60, Pantalla Dormitorio at 25
    first = await say(supervisor, wa_id, "bajale al altavoz de la cocina a 20")
    assert first.tools == ["set_volume"] and first.pending is not None, first.reply
    assert "20" in first.reply
    declined = await say(supervisor, wa_id, "no, espera")
    assert declined.pending is None
    same = await say(supervisor, wa_id, "haz lo mismo con la pantalla del dormitorio")
    assert same.tools == ["set_volume"], same.tools
    assert same.pending is not None and "Pantalla" in same.reply and "20" in same.reply, same.reply
    assert (await say(supervisor, wa_id, "no")).pending is None
