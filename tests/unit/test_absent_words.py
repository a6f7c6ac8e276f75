"""A question about a thing no retrieved passage speaks of gets no sentence that shares only the
name of a thing with it (`agents.absent_words`, `agents.passage_scorer`). No Redis, no
embeddings: the real-word list is given."""

from __future__ import annotations

import re

import pytest

from agents.absent_words import absent_words, asked_about, for_whom, is_real_word
from agents.passages import Scorer, best_passage_answer

PRODUCTS = (
    "# Products\n\nThe Smart Thermostat costs $149 and learns your schedule. Every device works "
    "with every plan.\n[source: products]"
)
REAL = frozenset({"bluetooth", "feriado", "thermostat", "schedule", "learn", "smallest"})


def _terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    stop = {"the", "and", "what", "how", "does", "have", "has", "any", "with", "its"}
    return {w.rstrip("s") for w in words if len(w) > 2 and w not in stop}


def _asks(text: str) -> bool:
    return text.strip().endswith("?")


def test_a_real_word_the_question_has_or_offers_that_no_passage_uses_is_absent() -> None:
    assert absent_words("does the thermostat have bluetooth?", PRODUCTS, _terms, REAL) == {
        "bluetooth"
    }
    assert asked_about("tienen algun regalo hoy".split()) == ["regalo"]  # "algun" skipped
    assert is_real_word("feriados", REAL)  # its singular is a word
    # A word no verb of having points at is not what is asked ("smallest").
    assert absent_words("which is the smallest thermostat?", PRODUCTS, _terms, REAL) == set()


def test_a_word_that_is_no_real_word_or_a_form_of_a_passage_word_is_not_absent() -> None:
    # "depto" is in no dictionary: no evidence of a topic the documents leave out.
    assert absent_words("does it have a depto?", PRODUCTS, _terms, REAL) == set()
    # "learning" shares its first letters with "learns": a form of a passage's word.
    assert absent_words("has it learning?", PRODUCTS, _terms, REAL | {"learning"}) == set()


def test_a_sentence_sharing_only_a_thing_with_a_question_on_an_absent_thing_is_no_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("agents.absent_words._real_words", lambda: REAL)
    scorer = Scorer(_terms, lambda q, texts: [0.0] * len(texts), lambda c: 0.0, _asks)

    def answer(question: str) -> str | None:
        return best_passage_answer(question, PRODUCTS, question, "en", scorer, lambda s, _: s)

    assert answer("does the thermostat have bluetooth?") is None
    assert answer("does the thermostat learn my schedule?") is not None


def test_an_offer_for_a_group_no_passage_names_is_answered_by_no_other_groups_offer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    promotions = (
        "# Promotions\n\nStudents get 20% off any plan with a valid student email.\n"
        "[source: promotions]"
    )
    real = frozenset({"student", "teacher", "nurse", "discount"})
    monkeypatch.setattr("agents.absent_words._real_words", lambda: real)
    assert asked_about("hay descuento pa jubilados".split(), for_whom()) == ["jubilados"]
    assert absent_words("any discount for nurses?", promotions, _terms, real, for_whom()) == {
        "nurse"
    }
    scorer = Scorer(_terms, lambda q, texts: [0.0] * len(texts), lambda c: 0.0, _asks)

    def answer(question: str) -> str | None:
        return best_passage_answer(question, promotions, question, "en", scorer, lambda s, _: s)

    assert answer("is there a discount for teachers?") is None
    assert answer("is there a discount for students?") is not None
