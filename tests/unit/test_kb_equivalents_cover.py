"""A customer's phrase and the documents' word for it count once when a knowledge-base passage is
checked for holding most of a question's words (`tools.knowledge.ranking`). No Redis."""

from __future__ import annotations

from tools.equivalents import with_document_words
from tools.knowledge import Passage, translated
from tools.knowledge.ranking import covered


def _passage(text: str) -> Passage:
    return Passage(kb_id="kb", source="promos", title="Promos", text=text, score=1.0, language="es")


def test_customer_words_beside_the_documents_word_are_translated() -> None:
    assert translated("r u guys in sf san francisco") == {"sf"}
    assert translated("r u guys in sf") == set()  # the documents' word is not there


def test_a_customer_phrase_counts_as_the_documents_word() -> None:
    query = with_document_words("si me cambio pierdo lo configurado?")
    passage = _passage("Pasar a Premium conserva tus dispositivos y ajustes.")
    assert covered(query, [passage])
    assert not covered("si me cambio pierdo lo configurado? ajustes conserva extra", [])


def test_a_thing_described_by_what_it_does_gets_the_documents_word() -> None:
    assert "speaker" in with_document_words("the round thing that talks, is it any good")
    assert "altavoz" in with_document_words("el aparato que habla cuanto sale")
    assert "termostato" in with_document_words("algo para manejar la temperatura del depto")
    assert "display" in with_document_words("which one has a screen?")
    assert "router" in with_document_words("how close to the internet box")
    assert "yearly" in with_document_words("is it cheaper to pay the whole year")
    assert "ano completo" in with_document_words("y si pago todo el ano junto?")
    # Talking to someone is no speaker.
    assert "speaker" not in with_document_words("can I talk to someone")


def test_where_the_company_is_asked_without_a_word_for_a_place() -> None:
    assert "ubicacion" in with_document_words("y donde quedan ustedes?")
    assert "location" in with_document_words("where are you guys?")
    assert "ubicacion" not in with_document_words("cuantos dias quedan para pagar?")


def test_charged_twice_is_a_duplicate_charge_and_a_refund_in_the_subjunctive() -> None:
    assert "duplicate" in with_document_words("and if they charged me twice?")
    assert "duplicados" in with_document_words("y si me cobraron dos veces?")
    assert "reembolsan" in with_document_words("puedo pedir que me lo devuelvan?")
