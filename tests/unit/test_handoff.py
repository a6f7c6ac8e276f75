"""Requests for a person: read from the request, not from the topic they mention, and routed to
the agent that can hand the conversation over."""

from __future__ import annotations

import asyncio

import pytest

from agents import load_agents
from graph import CascadeRouter, LocalRouter
from tools.handoff import asks_for_person


@pytest.mark.parametrize(
    "text",
    [
        "could you link me up with a staff member? speak to a rep",
        "hey, transfer me to an operator please",
        "ugh, my camera is dead again. put me through to a manager",
        "buenas, me comunica con un asesor?",
        "necesito que me atienda alguien de carne y hueso",
        "no me sirve el bot, quiero hablar con alguien",
        "is there a human i can talk to?",  # the verb of reaching after the person
        "hay alguien ahí que me pueda atender?",
        "me comunicas con alguien de carne y hueso?",  # any form of a Spanish verb of reaching
        "operator please",  # a word for a person as the whole request
        "human pls",
    ],
)
def test_requests_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "I want to connect my camera to the new router",  # connect, but no person
        "I need someone to look at my thermostat",  # someone after a verb of wanting
        "I don't need a human, just the price of premium",  # negated
        "no quiero un asesor, solo el precio del plan",
        "am I talking to a person?",  # a question about the assistant
        "can someone tell me my balance",
        "quiero conectar la cámara al wifi",
        "the agent told me i'd get a refund",  # a person mentioned, not asked for
        "no person has called me back",
        "mi asesor me dijo que tenía descuento",
    ],
)
def test_not_requests_for_a_person(text: str) -> None:
    assert not asks_for_person(text)


@pytest.fixture(scope="module")
def router() -> LocalRouter:
    return LocalRouter(load_agents())


def test_a_request_for_a_person_goes_where_escalation_happens(router: LocalRouter) -> None:
    assert router.handoff_agent == "general"  # the agent with the escalate_to_human tool
    decision = router.route("my speaker keeps dropping wifi, just connect me to an operator")
    assert decision.agent_id == "general" and decision.confidence >= 0.6
    # mid-conversation too: it is a clear switch, not a follow-up
    cascade = CascadeRouter(router)
    moved = asyncio.run(cascade.aroute("pasame con un operador", active_agent="billing"))
    assert moved.agent_id == "general"
    stays = asyncio.run(cascade.aroute("I need someone to fix my speaker volume"))
    assert stays.agent_id == "device_support"


def test_the_offline_model_hands_over_on_a_request_for_a_person() -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    from agents.offline import OfflineChatModel
    from tools import escalation_tool

    model = OfflineChatModel().bind_tools([escalation_tool()])
    reply = model.invoke([SystemMessage("Reply in English."), HumanMessage("get me an operator")])
    assert [c["name"] for c in reply.tool_calls] == ["escalate_to_human"]
