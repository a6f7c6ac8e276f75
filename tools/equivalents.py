"""Customer words for what the knowledge-base documents call otherwise (`equivalents.yaml`).

"which subscriptions can I choose from" sits far in meaning from "Hogar Smart Home has three
plans"; looked up as "which subscriptions can I choose from plans", it sits near. The documents'
word is added to the query, never put in place of the customer's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tools.text import fold


def parse_equivalents(data: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """{document word: customer phrases} from the YAML form, folded."""
    return {
        fold(str(word)): tuple(fold(str(p)) for p in phrases or [])
        for word, phrases in (data or {}).items()
    }


TOOLS_KEY = "tools"  # the table of the account tools' words, apart from the documents'


@lru_cache(maxsize=1)
def _tables() -> dict[str, Any]:
    text = (resources.files("tools") / "equivalents.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text) or {})


@lru_cache(maxsize=1)
def equivalents() -> dict[str, tuple[str, ...]]:
    """The documents' words for customers' words."""
    return parse_equivalents({k: v for k, v in _tables().items() if k != TOOLS_KEY})


@lru_cache(maxsize=1)
def tool_equivalents() -> dict[str, tuple[str, ...]]:
    """The account tools' words for customers' words (`tools:`): "visa" is the card on file."""
    return parse_equivalents(_tables().get(TOOLS_KEY))


def document_words(query: str, table: dict[str, tuple[str, ...]] | None = None) -> set[str]:
    """The documents' words the customer's words of the query stand for ("equipos" ->
    "dispositivos"), whether or not the query also uses them."""
    pattern, words_of, _ = _matcher(tuple((equivalents() if table is None else table).items()))
    return {w for m in pattern.finditer(fold(query)) for w in words_of[m.group(1)]}


def with_document_words(query: str, table: dict[str, tuple[str, ...]] | None = None) -> str:
    """The query with the documents' word for each customer word it uses."""
    folded = fold(query)
    _, _, order = _matcher(tuple((equivalents() if table is None else table).items()))
    found = document_words(query, table)
    added = [
        w
        for w in sorted(found, key=order.__getitem__)
        if not re.search(rf"\b{re.escape(w)}\b", folded)
    ]
    return f"{query} {' '.join(added)}" if added else query


@lru_cache(maxsize=8)
def _matcher(
    table: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[re.Pattern[str], dict[str, list[str]], dict[str, int]]:
    """One pattern for every customer phrase of a table (longest first, whole words, phrases
    may overlap), the documents' words each phrase stands for, and each word's place in the
    table (the words are added in that order)."""
    order = {word: index for index, (word, _) in enumerate(table)}
    words_of: dict[str, list[str]] = {}
    for word, phrases in table:
        for phrase in phrases:
            words_of.setdefault(phrase, []).append(word)
    # Where a phrase matches, each phrase it starts with matches too ("darme de baja", "darme").
    for phrase in list(words_of):
        for shorter in words_of:
            if phrase.startswith(f"{shorter} "):
                words_of[phrase] = [*words_of[phrase], *words_of[shorter]]
    ordered = sorted(words_of, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in ordered) or r"(?!)"
    # A lookahead tries every place, so overlapping phrases all count ("darme de baja", "baja").
    return re.compile(rf"(?=\b({alternatives})\b)"), words_of, order
