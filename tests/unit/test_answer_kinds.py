"""The kind of answer a question asks for, in the knowledge base's ranking and floor; tool choice
by the words that tell tools apart. Fake encoders and passages: no Redis, no model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage

import agents.offline as offline
from agents.offline import OfflineChatModel, _unclitic, asks_question, content_terms
from tests.unit.kb_doubles import CannedBase
from tools.answer_kinds import asked_kinds, parse_kinds, stated_kinds
from tools.knowledge import Passage
from tools.knowledge.ranking import fused

KINDS = parse_kinds(
    {
        "amount": {"asks": ["how much", "precio"], "states": [r"[$]\s?\d"]},
        "time": {"asks": ["when", "abren"], "states": [r"\b\d{1,2}\s?(?:am|pm)\b"]},
    }
)


def test_a_question_asks_for_a_kind_and_a_passage_states_it() -> None:
    assert asked_kinds("How much is it a month?", KINDS) == {"amount"}
    assert asked_kinds("¿A qué hora abren?", KINDS) == {"time"}
    assert asked_kinds("how is it going", KINDS) == frozenset()  # "how" alone asks no amount
    assert stated_kinds("The plan costs $9.99 a month.", KINDS) == {"amount"}
    assert stated_kinds("20% off for students", KINDS) == frozenset()
    # The shipped words: price questions in both languages, amounts in both notations.
    assert "amount" in asked_kinds("¿qué precio tiene?") & asked_kinds("what does it cost")
    assert "amount" in stated_kinds("cuesta 9,99 dólares") & stated_kinds("costs $9.99")
    assert "place" in asked_kinds("where are you?") and "contact" in stated_kinds("a@b.example")


def _passage(key: str, text: str, language: str = "es") -> Passage:
    return Passage("kb", key, key, text, 0.0, language, key)


def test_of_two_passages_close_in_meaning_the_one_stating_the_amount_comes_first() -> None:
    passages = {
        "promo": _passage("promo", "Este mes el primer mes de premium es gratis."),
        "plans": _passage("plans", "El plan premium cuesta 29,99 dólares al mes."),
    }
    meaning = {"promo": 0.45, "plans": 0.40}
    plain = fused(passages, [], meaning, "es", 2)
    assert plain[0].source == "promo"
    asked = asked_kinds("¿qué precio tiene el premium al mes?")
    assert fused(passages, [], meaning, "es", 2, asked)[0].source == "plans"


_Base = CannedBase


def test_a_short_question_finds_a_passage_stating_what_it_asks_just_under_the_floor() -> None:
    hours = {"hours": _passage("hours", "Abrimos los sábados de 10 am a 2 pm.")}
    base = _Base({"hours": 0.19}, hours)
    assert [p.source for p in base.retrieve("¿abren el sábado?", 2, "es")] == ["hours"]
    # Then only passages stating what is asked answer, not a closer one that does not.
    promo = {"promo": _passage("promo", "El sábado hay descuentos.")}
    both = _Base({"hours": 0.19, "promo": 0.22}, hours | promo)
    assert [p.source for p in both.retrieve("¿abren el sábado?", 2, "es")] == ["hours"]
    # A question asking for no kind the passage states stays under the floor.
    assert base.retrieve("¿venden aspiradoras?", 2, "es") == []
    # Far under the floor, stating the kind is not enough.
    assert _Base({"hours": 0.1}, hours).retrieve("¿abren el sábado?", 2, "es") == []


def _tool(name: str, description: str, examples: list[str], write: bool) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {"properties": {}},
        "examples": examples,
        "write": write,
    }


TOOLS = [
    _tool("check_status", "Whether a speaker is online.", ["is my speaker online"], False),
    _tool("set_volume", "Set the volume.", ["sube el volumen", "speaker louder"], True),
    _tool("move_device", "Move a device to a room.", ["move my speaker to the garage"], True),
]


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> OfflineChatModel:
    monkeypatch.setattr(offline, "similarities", lambda question, texts: [0.0] * len(texts))
    return OfflineChatModel().model_copy(update={"bound_tools": TOOLS})


def test_a_word_every_tool_has_tells_them_apart_less_than_a_word_one_tool_has(
    model: OfflineChatModel,
) -> None:
    weights = model._term_weights()
    (speaker,), (volume,) = content_terms("speaker"), content_terms("volume")
    assert weights[speaker] == pytest.approx(1 / 3) and weights[volume] == 1.0
    chosen = model._choose_tool("my speaker online", writes=True)
    assert chosen is not None and chosen["name"] == "check_status"


def test_a_verb_with_a_pronoun_is_read_as_the_verb(model: OfflineChatModel) -> None:
    weights = model._term_weights()
    assert _unclitic("subele", weights) == "sube" and _unclitic("speaker", weights) == "speaker"
    chosen = model._choose_tool("súbele", writes=True)
    assert chosen is not None and chosen["name"] == "set_volume"


def test_a_change_is_proposed_on_a_message_that_asks_nothing(model: OfflineChatModel) -> None:
    assert not asks_question("take the speaker to the garage")
    assert asks_question("can I move devices on the basic plan?")
    call = model.invoke([HumanMessage("take the speaker to the garage")])
    assert [c["name"] for c in call.tool_calls] == ["move_device"]
    asked = model.invoke([HumanMessage("can my speaker go to the garage?")])
    assert "move_device" not in [c["name"] for c in asked.tool_calls]


def test_ways_to_get_in_touch_and_where_to_send_ask_for_contact() -> None:
    assert "contact" in asked_kinds("como me comunico con ustedes")
    assert "contact" in asked_kinds("is there another way to get in touch?")
    kinds = asked_kinds("a donde les mando un email?")
    assert "contact" in kinds and "place" not in kinds
    assert "place" in asked_kinds("donde quedan?")


def test_monthly_or_yearly_asks_how_often_not_how_much() -> None:
    assert "amount" not in asked_kinds("se cobran por mes o por año?")
    assert "period" in asked_kinds("se cobran por mes o por año?")
    assert {"amount", "period"} <= asked_kinds("how much per month")


def test_the_cheapest_asks_for_the_lowest_amount() -> None:
    from tools.answer_kinds import HIGHEST, LOWEST, asked_extreme, stated_amount

    assert asked_extreme("el mas baratito que tengan") == LOWEST
    assert asked_extreme("what's your priciest plan") == HIGHEST
    assert asked_extreme("how much is premium") is None
    assert stated_amount("The plan costs $29.99 per month") == 29.99
    assert stated_amount("cuesta 9,99 dólares al mes") == 9.99
    assert stated_amount("up to 10 devices") is None


def test_how_much_time_asks_how_long_not_how_much_money() -> None:
    assert asked_kinds("y cuánto tiempo tengo para pedirlo?") == {"duration"}
    assert asked_kinds("how long does a refund take") == {"duration"}
    assert asked_kinds("cuánto cuesta y cuánto tarda el envío?") == {"amount", "duration"}
    assert stated_kinds("Puedes pedirlo dentro de los 30 días siguientes.") == {"duration"}
    assert "duration" not in stated_kinds("Abrimos de 9 a 18 horas.")  # a clock time
