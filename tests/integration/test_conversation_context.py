"""What a turn reads around the message, through the supervisor graph on the embedded stack: the
reply before a message that points back at it, and a number linked to no account."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.turns import say

pytestmark = pytest.mark.integration


async def test_that_one_is_what_the_reply_before_named(supervisor):
    # The refusal names the plans that allow a move; "that one" asks the price of one of them,
    # a sales question, though the message alone reads like a question about a bill. Jane, the
    # demo's basic customer: a refusal and a price change no record (no customer is added, so
    # the seeded-customer counts of other tests hold).
    wa_id = "15550001"
    refused = await say(supervisor, wa_id, "Move my Echo Mini to the kitchen")
    assert refused.agent_id == "device_support" and "Premium" in refused.reply, refused.reply
    followed = await say(supervisor, wa_id, "how much is that one a month")
    assert followed.agent_id == "sales"
    assert "$29.99" in followed.reply


async def test_a_number_with_no_account_gets_the_policy_as_well(supervisor):
    # An account tool cannot serve an unknown number: the knowledge base is searched next and
    # the reply says both.
    wa_id = str(15_700_000_000 + uuid.uuid4().int % 100_000_000)
    result = await say(supervisor, wa_id, "I paid for the wrong plan, can I get a refund?")
    assert result.tools == ["request_refund", "search_knowledge_base"], result.tools
    assert "account linked" in result.reply and "30 days" in result.reply
    assert result.pending is None  # nothing proposed for a number with no account
    checked = await say(supervisor, wa_id, "check my thermostat please, it won't connect to wifi")
    assert checked.tools == ["check_device_status", "search_knowledge_base"], checked.tools
    assert "account linked" in checked.reply and "10 seconds" in checked.reply


async def test_a_complaint_after_thanks_is_not_thanked_for(supervisor):
    wa_id = str(15_700_000_000 + uuid.uuid4().int % 100_000_000)
    result = await say(supervisor, wa_id, "thanks, still not working")
    assert not result.reply.startswith("You're welcome"), result.reply
    assert result.agent_id == "device_support"
