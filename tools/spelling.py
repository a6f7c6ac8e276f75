"""Typo repair against a known vocabulary: "hw much is premuim" -> "how much is premium".

Customers type fast on a phone. A word that is not in the vocabulary of what the system knows
(its agents' texts, its knowledge base, the tools' descriptions), nor a real word of the
encoder's multilingual word list, nor a word of the English or Spanish dictionary (either
language: "monto" is Spanish, "charging" English, though neither is in the texts), and sits one
edit (a letter missing, added, replaced, or two swapped) from a known word is replaced by that
word; chat shorthand ("u", "pls", "q", "xq") is expanded from `shorthand.yaml`. Words are
compared folded (case and accents), so "presio" finds "precio" and "invoce" finds "invoice".
The text keeps its other words as they were.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import yaml

from tools.embeddings import general_vocabulary
from tools.text import fold

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
MIN_LENGTH = 5  # shorter words are too often other real words one edit away
DICTIONARY_LANGUAGES = ("en", "es")  # a word of either is never "repaired" (code-switching)


@lru_cache(maxsize=1)
def shorthand() -> dict[str, str]:
    """Chat shorthand (folded) -> its words, both languages."""
    data = yaml.safe_load((resources.files("tools") / "shorthand.yaml").read_text("utf-8"))
    return {fold(str(k)): str(v) for k, v in (data or {}).items()}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Words every speller knows: function words, the marker words language detection reads,
    greetings and politeness, shorthand's expansions (a typo is never "corrected" into something
    else when it is one of these)."""
    from tools.knowledge import STOPWORDS
    from tools.language import marker_words
    from tools.phatic import phatic_phrases

    words = {fold(w) for w in STOPWORDS} | (marker_words() - set(shorthand()))
    words |= {w for phrases in phatic_phrases().values() for p in phrases for w in p}
    words |= {w for text in shorthand().values() for w in _TOKEN.findall(fold(text))}
    return frozenset(words)


def _spanish_verb_form(word: str) -> bool:
    """A form of a Spanish verb the dictionary holds only as an infinitive (`tools.language`)."""
    from tools.language import dictionary, spanish_verb_form

    return spanish_verb_form(word, dictionary("es"), dictionary("en"))


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Real words of the languages customers write in (folded), from the word-frequency lists
    `pyspellchecker` ships (about 250,000 words, read once, under a second); empty without the
    package. A word here is left as written: more evidence than "one edit from a known word"."""
    from tools.language import dictionary

    return frozenset().union(*(dictionary(language) for language in DICTIONARY_LANGUAGES))


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    letters = "abcdefghijklmnopqrstuvwxyzn"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | transposes | replaces | inserts


class Speller:
    """Repairs typos of words near a vocabulary (the more frequent known word wins ties).

    `texts`: what the words should be repaired towards (an agent's or a knowledge base's own
    texts). `lexicon`: real words that are left alone though the texts lack them ("charging" is
    not a typo of "changing"); by default the sentence encoder's multilingual word list and the
    English and Spanish dictionaries.
    """

    def __init__(
        self,
        texts: Iterable[str],
        *,
        extra: Iterable[str] = (),
        lexicon: frozenset[str] | None = None,
    ) -> None:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_TOKEN.findall(fold(text)))
        counts.update(fold(w) for w in (*extra, *common_words()))
        self.counts = counts
        self.lexicon = general_vocabulary() | dictionary_words() if lexicon is None else lexicon
        self._repairs: dict[str, str | None] = {}

    def known(self, word: str) -> bool:
        folded = fold(word)
        return folded in self.counts or folded in self.lexicon

    def word(self, word: str) -> str:
        """The known word `word` was meant to be (folded), or `word` unchanged."""
        folded = fold(word)
        if self.known(folded) or len(folded) < MIN_LENGTH or not folded.isalpha():
            return word
        if folded not in self._repairs:
            near = [w for w in _edits(folded) if w in self.counts]
            # The most frequent; among equals, the one sharing the first letter, then alphabetical.
            best = max(near, key=lambda w: (self.counts[w], w[0] == folded[0], w), default=None)
            if best is not None and _spanish_verb_form(folded):
                best = None  # "salgo de la pega": a form the Spanish list lacks, not "saldo"
            if len(self._repairs) > 10_000:
                self._repairs.clear()
            self._repairs[folded] = best
        repaired = self._repairs[folded]
        return word if repaired is None else repaired

    def correct(self, text: str) -> str:
        """`text` with shorthand expanded and near-miss words replaced by known ones."""
        short = shorthand()
        pieces: list[str] = []
        last = 0
        for match in _TOKEN.finditer(text):
            token = match.group(0)
            folded = fold(token)
            if folded in short and not self.known(folded):
                fixed = short[folded]
            else:
                fixed = self.word(token)
            pieces.append(text[last : match.start()] + fixed)
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)
