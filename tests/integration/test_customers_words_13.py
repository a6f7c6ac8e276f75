"""What the thirteenth round reads, through the supervisor graph on the embedded stack: thanks for
a fix that names the device, a thanks with a statement, a question about the assistant in other
words, a student discount asked with the university's name, where the company is asked without a
word for a place, charged twice as a duplicate charge, and a number alone answering the agent's
question. Unknown numbers, or a demo customer whose proposals are all declined, so no record
changes (other tests read them)."""

from __future__ import annotations

import pytest

from tests.integration.turns import say, unknown_number

pytestmark = pytest.mark.integration


async def test_thanks_for_a_fix_or_with_a_statement_is_thanked_for(supervisor):
    for text in (
        "grax mil, ya quedo la bocina sonando 🙌",
        "thx a lot, the speaker finally connected 🙏",
        "thank you so much, you've been very patient with me",
    ):
        result = await say(supervisor, unknown_number(), text)
        assert result.agent_id == "general", (text, result.agent_id)
        assert "information" not in result.reply and "información" not in result.reply, (
            text,
            result.reply,
        )


async def test_a_question_about_the_assistant_in_other_words(supervisor):
    result = await say(
        supervisor, unknown_number(), "ustedes son personas o es un robot el q me contesta?"
    )
    assert result.agent_id == "general" and "escalate_to_human" not in result.tools
    assert "no tengo esa información" not in result.reply, result.reply


async def test_the_knowledge_base_answers_in_the_customers_words(supervisor):
    student = await say(supervisor, unknown_number(), "im a student at FIU, any discount?")
    assert "20%" in student.reply, student.reply
    wa_id = unknown_number()
    await say(supervisor, wa_id, "hola, cuanto tiempo tengo pa pedir un reembolso?")
    where = await say(supervisor, wa_id, "ya gracias, y donde quedan ustedes?")
    assert "Market Street" in where.reply, where.reply
    twice = await say(supervisor, unknown_number(), "and if they charged me twice?")
    assert "Duplicate charges" in twice.reply, twice.reply


async def test_a_number_alone_answers_the_agents_question(supervisor):
    wa_id = "15550005"  # Carlos (premium): Altavoz Cocina at 60
    first = await say(supervisor, wa_id, "turn down the kitchen speaker a bit")
    second = await say(supervisor, wa_id, "20")
    assert second.agent_id == "device_support", (first.reply, second.reply)
    if second.pending is not None:
        declined = await say(supervisor, wa_id, "no wait, cancel that, keep it where it is")
        assert declined.pending is None and declined.agent_id == "device_support", declined.reply
