"""Whether the sentences chosen to answer a question address what it asks about (its focus).

A sentence may share a word with a question and still not answer it: "is the office wheelchair
accessible?" is not answered by the office's address, nor "do you have any job openings?" by the
opening hours. The focus of a question is its content words that name none of the passages'
things, do not ask for a kind of answer ("price", "when"), do not say how it is asked ("sorry")
and are not generic or words of the asking itself ("offer", "tienen": `tools/answer_kinds.yaml`).
A focus word is covered by the answer when the answer uses it (its stem), the documents' word for
it (`tools/equivalents.yaml`), or a word close in meaning (the multilingual encoder, word to
word); a word close only in form and in another sense ("job openings" / "opening hours") is no
cover: the two phrases around it must be close too.

The answer is no answer when it states no kind of answer asked for (an amount, a place...), no
capacity for a number asked about, and leaves most of the focus uncovered, at least
`MIN_UNCOVERED` words, none of them close to the answer as a phrase. Fitted on the dev and dev2
splits to refuse no answerable question there: a borderline question stays answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tools.answer_kinds import (
    asked_count,
    asked_kinds,
    filler_words,
    generic_words,
    stated_capacity,
    stated_kinds,
)
from tools.embeddings import Vectors
from tools.equivalents import equivalents
from tools.knowledge import STOPWORDS as _STOPWORDS
from tools.text import fold

WORD_CLOSE = (
    0.55  # word-to-word cosine at which a word covers another (tiny / small, gadgets / devices)
)
PHRASE_CLOSE = 0.7  # the two phrases around a word covered by its form must be this close
MIN_UNCOVERED = 2  # fewer uncovered focus words never refuse (a borderline question stays answered)
MAX_SHARE = 0.34  # refuse only when under this share of the focus is covered
RESIDUAL_CLOSE = 0.1  # the uncovered words, as a phrase, this close to the answer: related
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(_STOPWORDS)
_SPANISH_QUESTION = re.compile(r"¿([^?]*)\?")
_QUESTION = re.compile(r"[^.!?¿]*\?")

Terms = Callable[[str], set[str]]


@dataclass(frozen=True)
class FocusCheck:
    terms: Terms  # folded, stemmed content words
    stem: Callable[[str], str]
    encode: Callable[[list[str]], Vectors] | None  # texts -> unit vectors, or None

    def addresses(self, question: str, answer: str, names: set[str], kind_terms: set[str]) -> bool:
        """The answer sentences address what the question asks about (see the module docstring).
        `names`: words of the passages' names; `kind_terms`: words asking for a kind of answer."""
        asking = asking_part(question)
        if (asked_kinds(asking) & stated_kinds(answer)) or _holds_count(asking, answer):
            return True
        focus = self._focus(asking, names, kind_terms)
        if len(focus) < MIN_UNCOVERED or self.encode is None:
            return True
        uncovered = self._uncovered(focus, asking, answer)
        if len(uncovered) < MIN_UNCOVERED or 1 - len(uncovered) / len(focus) >= MAX_SHARE:
            return True
        return self._cosines(" ".join(uncovered), [answer])[0] >= RESIDUAL_CLOSE

    def _focus(self, asking: str, names: set[str], kind_terms: set[str]) -> dict[str, str]:
        """Stem -> the word as written, for the question's focus words."""
        excluded = set(names) | generic_words() | filler_words()
        unwanted = set(kind_terms) | self.terms(" ".join(excluded))
        focus: dict[str, str] = {}
        for word in _WORD.findall(fold(asking)):
            stem = self.stem(word)
            plain = len(word) <= 2 or word.isdigit() or word in STOPWORDS | excluded
            if not plain and stem not in unwanted:
                focus.setdefault(stem, word)
        return focus

    def _uncovered(self, focus: dict[str, str], asking: str, answer: str) -> list[str]:
        said = self.terms(answer)
        documents = {
            self.stem(w)
            for word, phrases in equivalents().items()
            if self.terms(word) & said
            for p in phrases
            for w in _WORD.findall(p)
        }
        words = sorted(
            {w for w in _WORD.findall(fold(answer)) if w not in STOPWORDS and len(w) > 2}
        )
        left = [w for s, w in focus.items() if s not in said and s not in documents]
        if not left or not words:
            return left
        vectors = self._vectors(left + words)
        uncovered = []
        for index, word in enumerate(left):
            close = [vectors[index] @ vectors[len(left) + j] for j in range(len(words))]
            best = max(range(len(words)), key=lambda j: close[j])
            if close[best] < WORD_CLOSE or not self._same_sense(word, words[best], asking, answer):
                uncovered.append(word)
        return uncovered

    def _same_sense(self, word: str, other: str, asking: str, answer: str) -> bool:
        """A word covered by a form of itself ("openings" / "opening") is used in the same sense
        when the phrases around the two are close ("opening times" / "opening hours")."""
        if word[:4] != other[:4]:
            return True
        mine, theirs = _around(word, asking), _around(other, answer)
        return self._cosines(mine, [theirs])[0] >= PHRASE_CLOSE

    def _vectors(self, texts: list[str]) -> Vectors:
        assert self.encode is not None
        return self.encode(texts)

    def _cosines(self, text: str, others: list[str]) -> list[float]:
        vectors = self._vectors([text, *others])
        return [float(v @ vectors[0]) for v in vectors[1:]]


def asking_part(question: str) -> str:
    """The sentences that ask ("¿...?", "...?"), without the scene around them; the whole text
    when none is marked with a question mark."""
    spanish = [m.group(1) for m in _SPANISH_QUESTION.finditer(question)]
    asked = spanish or [m.group(0) for m in _QUESTION.finditer(question)]
    return " ".join(a.strip() for a in asked if a.strip()) or question


def _holds_count(asking: str, answer: str) -> bool:
    return asked_count(asking) is not None and stated_capacity(answer) is not None


def _around(word: str, text: str) -> str:
    """The word with the content words next to it ("job openings", "opening hours")."""
    words = [w for w in _WORD.findall(fold(text)) if w not in STOPWORDS]
    for index, found in enumerate(words):
        if found == word:
            return " ".join(words[max(0, index - 1) : index + 2])
    return word
