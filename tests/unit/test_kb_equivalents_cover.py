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
