"""The words of a question that name something the retrieved passages never speak of.

"¿los equipos tienen garantía?" asks about a warranty; when no passage uses the word (nor a word
the documents use for it, `tools/equivalents.yaml`), a sentence that shares only "equipos" with
the question does not answer it. Such a word must be a real word of English or Spanish (the
dictionaries of `tools.spelling`, the encoder's word list): a word that is none ("depto", a
shorthand, a typo the speller could not place) is no evidence of a topic the documents leave out.
A typo of a documents' word is repaired before this is asked (`agents.passages`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

from agents.passage_reading import Terms
from tools.equivalents import document_words, equivalents
from tools.spelling import common_words, dictionary_words
from tools.text import fold

_WORD = re.compile(r"[a-z]+")
MIN_LENGTH = 4  # shorter words are too often shorthand or a unit ("yr", "gb")
PREFIX = 5  # a word sharing this many first letters with a passage's word is a form of it


@lru_cache(maxsize=1)
def _lists() -> dict[str, frozenset[str]]:
    data = yaml.safe_load((resources.files("agents") / "absent_words.yaml").read_text("utf-8"))
    return {k: frozenset(fold(str(w)) for w in v or []) for k, v in (data or {}).items()}


def words_before() -> frozenset[str]:
    """Words right before the thing a question asks about (`absent_words.yaml`)."""
    return _lists().get("before", frozenset())


def for_whom() -> frozenset[str]:
    """Two-word phrases right before whom an offer is for (`absent_words.yaml`)."""
    return _lists().get("for_whom", frozenset())


def asked_about(words: list[str], before: frozenset[str] | None = None) -> list[str]:
    """The words right after a word or a two-word phrase of `before` (`words_before` by
    default), a determiner between them skipped."""
    skipped = _lists().get("skipped", frozenset())
    before = words_before() if before is None else before
    found = []
    for i, word in enumerate(words[:-1]):
        if word in before or (i and f"{words[i - 1]} {word}" in before):
            after = words[i + 1 : i + 3]
            found.append(after[1] if after[0] in skipped and len(after) > 1 else after[0])
    return found


@lru_cache(maxsize=1)
def _real_words() -> frozenset[str]:
    from tools.embeddings import general_vocabulary

    return dictionary_words() | general_vocabulary()


@lru_cache(maxsize=1)
def _equivalent_words() -> frozenset[str]:
    """Every word of the documents' words and of the customer's words they stand for."""
    found: set[str] = set()
    for word, phrases in equivalents().items():
        for text in (word, *phrases):
            found.update(_WORD.findall(fold(text)))
    return frozenset(found)


def standing_for(text: str) -> set[str]:
    """The documents' words the customer's words of the text stand for ("equipos" ->
    "dispositivos"), folded."""
    return {fold(word) for word in document_words(text)}


def is_real_word(word: str, real: frozenset[str] | None = None) -> bool:
    """The word (folded), or its singular, is a word of a dictionary ("feriados": "feriado")."""
    known = _real_words() if real is None else real
    singulars = [word[:-2], word[:-1]] if word.endswith("es") else [word[:-1]]
    return word in known or (word.endswith("s") and any(s in known for s in singulars))


def absent_words(
    question: str,
    passages: str,
    terms: Terms,
    real: frozenset[str] | None = None,
    before: frozenset[str] | None = None,
) -> set[str]:
    """The terms of the question's real words that name what it asks about (`asked_about`,
    after the words of `before`) and that no passage uses (`passages`: their text, in either
    language) in any form (the same first letters), nor stand for a documents' word."""
    written = set(_WORD.findall(fold(passages)))
    vocabulary = {t for w in written for t in terms(w)}
    prefixes = {w[:PREFIX] for w in written if len(w) >= PREFIX}
    ordinary = common_words() | _equivalent_words()
    found: set[str] = set()
    for word in asked_about(_WORD.findall(fold(question)), before):
        if len(word) < MIN_LENGTH or word in ordinary:
            continue
        stems = terms(word)
        if word[:PREFIX] in prefixes or not stems or stems & vocabulary:
            continue
        if is_real_word(word, real):
            found |= stems
    return found
