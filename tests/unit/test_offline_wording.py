"""The offline model reads customers' wording: Spanish word forms, the account tools' words for
customers' ones, a question tagged at the end, an order in any clause, a why-not question, an
arrow as a move, and two reads joined in one message."""

from __future__ import annotations

from typing import Any

import pytest

import agents.offline_tools as offline_tools
from agents.offline import OfflineChatModel
from agents.offline_reading import asks_for_knowledge, asks_question, is_request
from agents.offline_text import as_written, stem
from agents.offline_tools import Asked, ToolBox
from tools.equivalents import equivalents, tool_equivalents, with_document_words


def _tool(name: str, description: str, examples: list[str], write: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": {}, "required": []},
        "examples": examples,
        "write": write,
    }


BILLING = [
    _tool("search_knowledge_base", "Search the knowledge base.", ["refund policy"]),
    _tool("get_latest_invoice", "The latest invoice.", ["last invoice", "ultima factura"]),
    _tool("get_balance", "What the customer owes.", ["how much do I owe", "cuanto debo", "saldo"]),
    _tool("get_payment_method", "The payment method.", ["card on file", "tarjeta registrada"]),
]


@pytest.fixture
def billing(monkeypatch: pytest.MonkeyPatch) -> ToolBox:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    return ToolBox(BILLING)


def test_spanish_gerunds_and_pronouns_written_on_reach_the_verbs_stem() -> None:
    assert stem("desenchufandolo") == stem("desenchufando") == "desenchuf"
    assert stem("reiniciarlo") == stem("reinicia")
    assert stem("conectado") != stem("conecta")  # a state is no action
    assert stem("moved") == "moved" and stem("saludos") == "saludo"  # other words as before


def test_the_account_tools_words_are_added_for_the_customers_and_apart_from_the_documents() -> None:
    assert "tarjeta" in with_document_words("pago con debito o credito?", tool_equivalents())
    assert "en linea" in with_document_words("la pantalla esta prendida?", tool_equivalents())
    assert "tools" not in equivalents()  # the knowledge base's table is the documents' words
    assert "tarjeta" not in with_document_words("pago con debito o credito?")


def test_a_card_a_past_payment_and_what_is_left_to_pay_find_their_reads(billing: ToolBox) -> None:
    asked = Asked(writes=False)
    assert billing.choose("y la visa que tienen?", asked)["name"] == "get_payment_method"  # type: ignore[index]
    assert billing.choose("cuanto pague la ultima vez", asked)["name"] == "get_latest_invoice"  # type: ignore[index]
    assert billing.choose("queda algo sin pagar", asked)["name"] == "get_balance"  # type: ignore[index]


def test_a_question_tagged_at_the_end_and_a_why_not_question() -> None:
    assert asks_question("la pantalla esta prendida o que")
    assert asks_question("the speaker is on or not")
    assert not asks_question("la pantalla esta prendida")
    assert asks_for_knowledge("why can't I move my speaker?")
    assert asks_for_knowledge("por que no me deja mover el altavoz?")
    assert not asks_for_knowledge("why is my speaker offline?")


def test_an_order_in_a_later_clause_is_a_request() -> None:
    assert is_request("ya esta en la oficina, muevelo en la app")
    assert is_request("it sits in the garage now, move it there")
    assert not is_request("ya esta en la oficina")


def test_an_arrow_between_two_places_reads_as_to() -> None:
    assert as_written("lamp office -> garage") == "lamp office to garage"
    assert as_written("lamp office → garage") == "lamp office to garage"
    assert as_written("a - b") == "a - b"


def test_two_reads_joined_in_one_message_are_both_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_tools, "similarities", lambda q, texts: [0.0] * len(texts))
    model = OfflineChatModel().model_copy(update={"bound_tools": BILLING})
    calls = model.invoke("card on file + last invoice").tool_calls
    assert {c["name"] for c in calls} == {"get_payment_method", "get_latest_invoice"}
    (call,) = model.invoke("last invoice please").tool_calls
    assert call["name"] == "get_latest_invoice"


def test_a_follow_up_that_finds_the_knowledge_base_by_its_own_words_is_not_joined(
    billing: ToolBox,
) -> None:
    from agents.offline import _searches_itself

    search = billing.tool("search_knowledge_base")
    assert _searches_itself(billing, "and the refund policy?", search)
    assert not _searches_itself(billing, "and the other one?", search)
