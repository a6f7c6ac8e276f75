"""The local router on messages nobody wrote for it: greetings before the request, small talk,
Spanish without accents, vague messages handed on, and the lexical fallback."""

from __future__ import annotations

import asyncio

import pytest

from agents import load_agents
from evals import load_dataset
from evals.dataset import SPLITS
from evals.routing import score_routing
from graph import CascadeRouter, LocalRouter
from tools.phatic import read_message


@pytest.fixture(scope="module")
def router() -> LocalRouter:
    return LocalRouter(load_agents())


def test_greetings_and_apologies_are_not_the_request() -> None:
    reading = read_message("hi there sorry to bother you, I was wondering what the plans cost")
    assert reading.request == "what the plans cost" and reading.small_talk is None
    assert read_message("Hola, cancelé mi plan").request == "cancelé mi plan"
    assert read_message("muchas gracias!! 🙏").small_talk == "thanks"
    assert read_message("ok").small_talk == "politeness"


def test_requests_after_greetings_route_on_the_request(router: LocalRouter) -> None:
    assert router.route("good morning!! sorry to bother, my thermostat went offline").agent_id == (
        "device_support"
    )
    assert router.route("buenas tardes, disculpe, cuánto cuesta el altavoz grande").agent_id == (
        "sales"
    )


def test_small_talk_goes_to_general_but_a_bare_ok_keeps_the_conversation(
    router: LocalRouter,
) -> None:
    cascade = CascadeRouter(router)

    async def route(text: str, active: str | None) -> str:
        return (await cascade.aroute(text, active_agent=active)).agent_id

    assert asyncio.run(route("thank you!!", "sales")) == "general"
    assert asyncio.run(route("ok", "sales")) == "sales"


def test_vague_messages_get_a_low_confidence(router: LocalRouter) -> None:
    # Money points at billing, vaguely: under the confidence that moves a conversation (0.6).
    assert router.route("something about money i guess").confidence < 0.5
    assert router.route("algo de plata creo").confidence < 0.35
    assert router.route("How much is the premium plan?").confidence > 0.9


def test_without_the_embedding_model_the_lexical_router_answers() -> None:
    lexical = LocalRouter(load_agents(), encoder=None)
    assert lexical.semantic is None
    assert lexical.route("Show me my last invoice").agent_id == "billing"


def test_held_out_routing_stays_above_its_measured_floor(router: LocalRouter) -> None:
    """A regression guard on data never tuned on (measured 0.90; see evals/README.md)."""
    test = [c for name in SPLITS["test"] for c in load_dataset(name)]
    score = asyncio.run(score_routing(CascadeRouter(router), test))
    assert score.accuracy("single") >= 0.85 and score.accuracy("conversation") >= 0.88


def test_a_question_about_the_assistant_is_answered_not_handed_over() -> None:
    from langchain_core.messages import HumanMessage

    from agents.offline import OfflineChatModel
    from tools import escalation_tool
    from tools.phatic import asks_about_assistant

    assert asks_about_assistant("hey, am I chatting with a robot?")
    assert asks_about_assistant("¿eres una máquina?")
    assert not asks_about_assistant("I want to talk to a human")
    assert not asks_about_assistant("are you open on sunday?")
    # In any clause, voseo, "me estás contestando...", "esto es un contestador"...
    assert asks_about_assistant("jaja que rapido contestan, sos un bot no?")
    assert asks_about_assistant("mmm me estas contestando una maquina cierto? 🤖")
    assert asks_about_assistant("hola, esto es un contestador automático?")
    # ...but "is it" / "esto es" only with a word for a bot or a person.
    assert not asks_about_assistant("is it automatic payment?")
    assert not asks_about_assistant("esto es automatico el cobro?")
    model = OfflineChatModel().bind_tools([escalation_tool()])
    reply = model.invoke([HumanMessage("is this an automated chat?")])
    assert not reply.tool_calls and "assistant" in str(reply.content)


def test_the_active_agent_is_a_prior_that_a_clear_switch_still_beats(router: LocalRouter) -> None:
    from graph.router import Calibration

    cascade = CascadeRouter(router)
    without = CascadeRouter(
        LocalRouter(
            load_agents(), calibration=Calibration(context_bonus=0.0, continuation_bonus=0.0)
        )
    )

    async def route(on: CascadeRouter, text: str, active: str) -> str:
        return (await on.aroute(text, active_agent=active)).agent_id

    follow_up = "and how long is that valid for"  # about the promotion just discussed
    assert asyncio.run(route(without, follow_up, "sales")) != "sales"
    assert asyncio.run(route(cascade, follow_up, "sales")) == "sales"
    assert (
        asyncio.run(route(cascade, "by the way the display in the kitchen is offline", "billing"))
        == "device_support"
    )
    assert asyncio.run(route(cascade, "also I want a copy of my invoice", "device_support")) == (
        "billing"
    )


def test_a_message_scores_between_its_whole_request_and_its_best_clause(
    router: LocalRouter,
) -> None:
    import numpy as np

    assert router.semantic is not None
    per_clause = np.array([0.2, 0.6, 0.4], dtype=np.float32)  # the whole request first
    assert router.semantic._blend(per_clause) == pytest.approx(0.4)
