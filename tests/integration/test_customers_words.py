"""What the twelfth round reads, through the supervisor graph on the embedded stack: thanks in
the customer's own words, a question how long (not how much), a decline with second thoughts,
and "que me marquen". Unknown numbers, or a demo customer whose proposals are all declined, so no
record changes (other tests read them)."""

from __future__ import annotations

import pytest

from tests.integration.turns import say, unknown_number

pytestmark = pytest.mark.integration


async def test_thanks_in_the_customers_words_is_thanked_for(supervisor):
    for text in (
        "ya quedó ya se conectó muchas gracias por la paciencia 🙌",
        "graciaaas genia, ya anda todo",
        "Muchas gracias por la pronta respuesta. Saludos cordiales.",
    ):
        result = await say(supervisor, unknown_number(), text)
        assert result.agent_id == "general" and not result.tools, (text, result.tools)
        assert "no tengo esa información" not in result.reply, (text, result.reply)


async def test_how_long_is_asked_of_the_sentence_stating_a_duration(supervisor):
    wa_id = unknown_number()
    await say(supervisor, wa_id, "me llegaron dos cobros iguales a la tarjeta este mes")
    result = await say(supervisor, wa_id, "y en cuánto tiempo me lo regresan")
    assert "5 días hábiles" in result.reply and "9,99" not in result.reply, result.reply


async def test_a_decline_with_second_thoughts_stays_with_the_agent_that_proposed(supervisor):
    wa_id = "15550005"  # Carlos (premium): Altavoz Cocina at 60
    first = await say(supervisor, wa_id, "bajale al altavoz de la cocina a 15")
    assert first.pending is not None, first.reply
    declined = await say(supervisor, wa_id, "no mejor no, ya lo pensé")
    assert declined.pending is None and declined.agent_id == "device_support", declined.reply


async def test_que_me_marquen_asks_to_be_called_back(supervisor):
    result = await say(supervisor, unknown_number(), "ok quiero que me marquen")
    assert result.agent_id == "general"
    assert "escalate_to_human" in result.tools, result.tools
