"""The whole supervisor graph on real Redis (checkpoints, KB) and DynamoDB (customers, log)."""

from __future__ import annotations

import pytest

from graph import SupervisorGraph, run_turn, thread_id_for
from stores import Stores, whatsapp_user_id
from tests.integration.conftest import new_wa_id

pytestmark = pytest.mark.integration
NUMBER = "100000000000001"


async def turn(graph: SupervisorGraph, wa_id: str, *texts: str):
    return await run_turn(graph, phone_number_id=NUMBER, wa_id=wa_id, texts=list(texts))


@pytest.mark.parametrize(
    ("text", "agent", "language"),
    [
        ("What does the premium plan cost per month?", "sales", "en"),
        ("¿Qué precio tiene el plan enterprise?", "sales", "es"),
        ("Is my speaker online right now?", "device_support", "en"),
        ("Mi altavoz se desconecta del wifi todo el tiempo", "device_support", "es"),
        ("When is my next payment due?", "billing", "en"),
        ("Me cobraron dos veces este mes", "billing", "es"),
        ("Hi, good morning!", "general", "en"),
        ("¿Cuál es su horario de atención?", "general", "es"),
    ],
)
async def test_each_agent_is_reached_in_english_and_spanish(supervisor, text, agent, language):
    result = await turn(supervisor, new_wa_id(), text)
    assert result.agent_id == agent, result.state["context_variables"].get("route_reason")
    assert result.language == language
    assert result.reply.strip()


async def test_unknown_question_goes_to_general_and_admits_it(supervisor):
    result = await turn(supervisor, new_wa_id(), "What is the capital of France?")
    assert result.agent_id == "general"
    assert "don't have that information" in result.reply


async def test_follow_up_sticks_with_the_active_agent(supervisor):
    wa_id = new_wa_id()
    first = await turn(supervisor, wa_id, "How much is the premium plan?")
    assert first.agent_id == "sales"
    assert "$29.99" in first.reply
    follow_up = await turn(supervisor, wa_id, "and for enterprise?")
    assert follow_up.agent_id == "sales"
    assert "$99" in follow_up.reply
    spanish = await turn(supervisor, wa_id, "y para estudiantes?")
    assert spanish.agent_id == "sales"
    assert "20%" in spanish.reply


async def test_clear_topic_switch_leaves_the_active_agent(supervisor):
    wa_id = new_wa_id()
    assert (await turn(supervisor, wa_id, "How much is the premium plan?")).agent_id == "sales"
    switched = await turn(supervisor, wa_id, "I was charged twice, I want a refund")
    assert switched.agent_id == "billing"


async def test_kb_answer_cites_its_source(supervisor):
    result = await turn(supervisor, new_wa_id(), "My speaker keeps disconnecting from the wifi")
    assert result.agent_id == "device_support"
    assert "search_knowledge_base" in result.tools
    assert "(Source: Troubleshooting wifi)" in result.reply
    assert "restart the device" in result.reply


async def test_allowed_action_changes_the_record_after_a_yes(
    supervisor, stores: Stores, new_customer
):
    customer = new_customer("basic")
    proposed = await turn(supervisor, customer.phone[1:], "Set the volume of my speaker to 30")
    assert proposed.tools == ["set_volume"]
    assert proposed.reply == "Set the volume of your Speaker 0 from 50 to 30?"
    assert [title for _, title in proposed.buttons] == ["Yes", "No"]
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.devices[0].volume == 50, "nothing changes before a yes"
    done = await turn(supervisor, customer.phone[1:], "yes")
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.devices[0].volume == 30
    assert done.reply == "Done, your Speaker 0 is now at volume 30."


async def test_forbidden_action_is_denied_naming_the_tier(supervisor, stores: Stores, new_customer):
    customer = new_customer("basic")
    result = await turn(supervisor, customer.phone[1:], "Please move my speaker to the bedroom")
    assert result.tools == ["relocate_device"]
    assert "not included in your Basic plan" in result.reply
    assert "Premium and Enterprise plans" in result.reply
    assert result.buttons == []
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None and stored.devices[0].location == "living_room"


async def test_premium_customer_may_relocate(supervisor, stores: Stores, new_customer):
    customer = new_customer("premium", language="es", devices=2)
    proposed = await turn(
        supervisor, customer.phone[1:], "Mueve el altavoz de la cocina al dormitorio"
    )
    assert proposed.language == "es"
    assert proposed.tool_calls[0]["name"] == "relocate_device"
    assert proposed.reply == "¿Muevo tu Speaker 1 de cocina a dormitorio?"
    done = await turn(supervisor, customer.phone[1:], "sí")
    stored = stores.customers.get_customer(customer.id)
    assert stored is not None
    assert [d.location for d in stored.devices] == ["living_room", "bedroom"]
    assert done.reply.startswith("Listo")


async def test_billing_answers_through_the_api(supervisor):
    result = await turn(supervisor, "15550002", "Show me my last invoice")
    assert result.agent_id == "billing"
    assert result.tools == ["get_latest_invoice"]
    assert "INV-1102" in result.reply and "59.98" in result.reply


async def test_request_for_a_human_escalates(supervisor, stores: Stores):
    wa_id = new_wa_id()
    result = await turn(supervisor, wa_id, "Quiero hablar con una persona, por favor")
    assert result.agent_id == "general"
    assert result.escalation_triggered
    logged = stores.conversations.session_messages(result.session_id or "")
    outbound = [m for m in logged if m.direction == "outbound"]
    assert outbound[-1].escalation_triggered is True


async def test_one_item_per_message_with_the_agent(supervisor, stores: Stores):
    wa_id = new_wa_id()
    first = await turn(supervisor, wa_id, "When is my payment due?")
    burst = await turn(supervisor, wa_id, "hello", "what are your opening hours?")
    logged = stores.conversations.session_messages(first.session_id or "")
    assert burst.session_id == first.session_id
    assert [(m.direction, m.agent_id) for m in logged] == [
        ("inbound", "billing"),
        ("outbound", "billing"),
        ("inbound", "general"),
        ("inbound", "general"),
        ("outbound", "general"),
    ]
    reply = logged[1]
    assert reply.user_id == whatsapp_user_id(wa_id)
    assert reply.model_id == "offline-dev-model"
    assert reply.tokens_used and reply.tokens_used > 0
    assert reply.processing_time_ms is not None and reply.processing_time_ms >= 0
    assert reply.content == first.reply
    assert reply.message_id == f"{logged[0].message_id}:reply"


async def test_checkpoint_stays_bounded_while_dynamodb_keeps_everything(supervisor, stores):
    wa_id = new_wa_id()
    for i in range(30):
        result = await turn(supervisor, wa_id, f"How much is the premium plan? ({i})")
    state = await supervisor.aget_state(
        {"configurable": {"thread_id": thread_id_for(NUMBER, wa_id)}}
    )
    assert len(state.values["messages"]) < 20
    assert len(stores.conversations.session_messages(result.session_id)) == 60


async def test_new_session_starts_with_a_summary_of_history(supervisor, settings):
    from redis import Redis

    wa_id = new_wa_id()
    first = await turn(supervisor, wa_id, "Show me my last invoice")
    # The session ends when its checkpoint expires; expire it now.
    client = Redis.from_url(settings.redis_url)
    for key in client.scan_iter(match=f"*{NUMBER}:{wa_id}*"):
        client.delete(key)
    second = await turn(supervisor, wa_id, "hello")
    assert second.session_id != first.session_id
    summary = second.state["context_variables"]["history_summary"]
    assert "customer: Show me my last invoice" in summary
    assert "assistant (billing)" in summary
