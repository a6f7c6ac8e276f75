"""What the tenth round reads in a message, through the supervisor graph on the embedded stack:
muting is a volume of 0, a question about one's music services lists them, "someone" in a
condition is no request for a person, a question about the assistant in voseo, and "the middle
one" after a list of plans. Each fails with its mechanism switched off. Demo customers only, and
every proposal is declined, so no record changes (other tests count and read them)."""

from __future__ import annotations

import pytest

from tests.integration.turns import say, unknown_number

pytestmark = pytest.mark.integration


async def test_muting_proposes_a_volume_of_zero(supervisor):
    wa_id = "15550002"  # John (premium): Home Speaker in the kitchen at 55
    muted = await say(supervisor, wa_id, "mute the kitchen speaker")
    assert muted.tools == ["set_volume"], muted.tools
    assert muted.pending is not None and "from 55 to 0" in muted.reply, muted.reply
    declined = await say(supervisor, wa_id, "no")
    assert declined.pending is None


async def test_a_question_about_ones_music_services_lists_them(supervisor):
    wa_id = "15550005"  # Carlos (premium, Spanish): Deezer connected
    listed = await say(supervisor, wa_id, "que musica tengo conectada en la cuenta?")
    assert listed.tools == ["manage_music_service"], listed.tools
    assert "Deezer" in listed.reply, listed.reply
    assert listed.pending is None  # it asked which one: nothing proposed


async def test_someone_in_a_condition_is_no_request_for_a_person(supervisor):
    result = await say(
        supervisor,
        unknown_number(15_800_000_000),
        "la camara me avisa al celu cuando alguien pasa por la puerta?",
    )
    assert result.agent_id == "device_support"
    assert "escalate_to_human" not in result.tools


async def test_a_question_about_the_assistant_in_voseo_is_answered(supervisor):
    result = await say(
        supervisor, unknown_number(15_800_000_000), "jaja que rapido contestan, sos un bot no?"
    )
    assert result.agent_id == "general" and result.tools == []
    assert "asistente" in result.reply, result.reply


async def test_the_middle_one_is_read_with_the_plans_the_reply_listed(supervisor):
    wa_id = unknown_number(15_800_000_000)
    plans = await say(supervisor, wa_id, "hiya, what plans do u have")
    assert plans.agent_id == "sales" and "Premium" in plans.reply, plans.reply
    middle = await say(supervisor, wa_id, "whats in the middle one")
    assert middle.agent_id == "sales"
