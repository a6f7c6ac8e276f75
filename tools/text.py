"""Text folding for matching what customers type (case, accents, underscores)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container


def fold(text: str) -> str:
    """Lowercase without accents, for matching what customers type."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


# A message this much in capitals is shouted, not a run of names ("ALTAVOZ PARA EL BAÑO CUANTO
# VALE"): read it in lower case, so capitalised-name readings do not take every word for a name.
SHOUTED_SHARE = 0.7
SHOUTED_MIN_LETTERS = 8


def unshout(text: str) -> str:
    """`text` in lower case when most of its letters are capitals, else as it is. A code or
    an acronym among lower-case words ("HOGAR30", "CEO") is not shouting."""
    upper = sum(c.isupper() for c in text)
    cased = upper + sum(c.islower() for c in text)
    if upper < SHOUTED_MIN_LETTERS or upper < SHOUTED_SHARE * cased:
        return text
    return text.lower()


_STRETCHED = re.compile(r"([a-záéíóúñü])\1+$")


_HELD = re.compile(r"([a-z])\1{2,}")


def unstretched(word: str, known: Container[str]) -> str:
    """A word typed with a letter held ("graciassss", "holaaa", "graciaaas") as the `known` word
    it stretches; any other word, and a known word ("all", "see"), as it is."""
    if word in known:
        return word
    cut = _STRETCHED.sub(r"\1", word)
    if cut in known:
        return cut
    # A letter held inside the word ("graciaaas", "muuuchas", "thaaanks").
    held = _HELD.sub(r"\1", word)
    return held if held in known else word


__all__ = ["fold", "unshout", "unstretched"]
