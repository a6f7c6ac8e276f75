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
        "si alguien me puede atender, mejor",  # the customer is the object: still asked for
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
        "are there any humans I could talk to",  # a plural person word
        "quiero hablar con asesores",  # a Spanish plural in -es
        "I'd rather be talking with a representative",  # an -ing form before the person
        "can I be transferred to a supervisor",  # a passive
        "could a human assist me with this",  # a verb of serving after a word for a person
        "busco un humano que me ayude",
        "is a supervisor available right now?",  # availability closing the clause
        "hay algún asesor disponible?",
        "please call me back",  # a request to be called back
        "que me llamen por favor",
        "llámenme",
        "talk to a persn",  # one-edit typos of words of five letters or more
        "necesito hablr con una persona",
        "tranfer me to an operator",
        "real person now",  # a word for a person with words that only qualify it
        "persona real ya",
    ],
)
def test_requests_for_a_person_in_other_words(text: str) -> None:
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
        "can someone help me set up the wifi",  # serving after "someone": a support request
        "busco alguien que me ayude con el wifi",
        "my manager needs help with the invoice",  # a person the customer owns
        "is customer service available on weekends?",  # availability in opening hours
        "is someone available to fix my wifi this week",
        "anyone around?",  # availability of someone: only a presence check
        "the person calling me says they are from your company",  # -ing after the person
        "the person I talked to said I'd get a refund",
        "they call me every day about offers",  # a narrator before "call me"
        "don't call me again",
        "me llamo Juan",
        "I want to connect my personal speaker",  # "personal" is a real word, no typo
        "where can I see you in person",  # how, not who
        "what is your phone number to speak to support",  # contact details
        "how do I reach the support team by email?",
        "pasame el telefono de atencion al cliente",  # the phone number is what is asked for
        "how many people can use one account",
        # "someone" as the subject of a condition ("cuando alguien pasa"), not who is asked for
        "la camara me avisa cuando alguien pasa por la puerta?",
        "does the doorbell ping my phone when someone walks up",
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


def test_the_offline_model_never_escalates_by_the_score_of_the_tools_words() -> None:
    """The escalation tool is chosen on a request for a person only: a message whose words are
    near its description ("the person who runs the company") gets another tool, or none."""
    from agents.offline_tools import ToolBox
    from tools import escalation_tool

    handoff = escalation_tool()
    escalation = {
        "name": handoff.name,
        "description": handoff.description,
        "parameters": {"type": "object", "properties": {}, "required": []},
        "examples": list((handoff.metadata or {})["examples"]),
    }
    box = ToolBox([escalation], min_score=0.1)
    assert box.choose("what is the name of the person who runs the company?") is None
    chosen = box.choose("quiero hablar con una persona real")
    assert chosen is not None and chosen["name"] == "escalate_to_human"


@pytest.mark.parametrize(
    "text", ["get me an operator", "un humano ya, no quiero seguir con el bot"]
)
def test_the_offline_model_reads_a_request_for_a_person_as_written(text: str) -> None:
    """Clause by clause, as the customer wrote it: "un humano ya" is a request of its own, not
    the start of "un humano ya no quiero..." once greetings and commas are dropped."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from agents.offline import OfflineChatModel
    from tools import escalation_tool

    model = OfflineChatModel().bind_tools([escalation_tool()])
    reply = model.invoke([SystemMessage("Reply in Spanish."), HumanMessage(text)])
    assert [c["name"] for c in reply.tool_calls] == ["escalate_to_human"]


@pytest.mark.parametrize(
    "text",
    [
        "I'd like a supervisor to check this",  # a wish of several words
        "would it be possible to have a live agent",
        "no habrá un asesor que me pueda atender?",  # a negated word of existence asks politely
        "isn't there anyone I can talk to?",
        "¿no hay nadie con quien hablar?",  # "nadie" after it stands for "alguien"
        "un asesor digo",  # a correction of what was said before
        "a human I mean",
        "cómo hago para que me atiendan?",  # a request to be attended
        "póngame con un supervisor",
        "ejecutivo porfa",
        "quiero hablar con un técnico",  # a technician, after a verb of reaching
        "y si no funciona pásame con un asesor",  # the negation is the condition's
        "if it doesn't work put me through to an agent",
        "¿hay algún asesor libre? tengo dudas",  # availability
        "ok quiero que me marquen",  # "marcar": to call, in Mexico and Central America
        "a qué hora me pueden llamar?",  # a call back, whatever the hour
        "that's not good enough, get me someone real",  # "someone real" is a word for a person
        "quiero alguien real que me ayude",
        "that's not good enough, get me someone real on the phone",  # no means asked
        "quiero hablar con una persona por teléfono",
    ],
)
def test_requests_for_a_person_in_polite_and_corrected_forms(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'd like a camera that spots a person at the door",  # the wish is for the camera
        "quiero una cámara que detecte personas",
        "I need a technician to install the thermostat",  # an installation, not a handoff
        "el plan enterprise incluye alguien que me atienda?",  # what a plan comes with
        "no hay nadie en casa durante el día",  # nobody at home: no person asked for
        "isn't there a cheaper plan?",
        "ponme el volumen en 20",
        "I'd like the premium plan",
        "can I have a refund",
        "no me atienden nunca",  # negated
        "no quiero hablar con un asesor",
        "I don't need a person, just the price",
        "el altavoz marca la hora?",
        "get me someone to fix it",  # someone, not someone real: a repair
        "does the camera tell me if someone real is at the door",
    ],
)
def test_not_requests_for_a_person_in_those_forms(text: str) -> None:
    assert not asks_for_person(text)
