"""What kind of answer a question asks for (an amount, a time, a place, a way to get in touch),
and which passages state that kind.

"¿qué precio tiene el premium al mes?" asks for an amount: of two passages close in meaning, the
one stating amounts ("29,99 dólares al mes") answers it, not the promotion that only talks about
the price. "¿abren el sábado?" asks for a time: a passage stating opening times may answer it
even when the question is too short to sit close to any sentence in meaning. The words of each
kind and the shapes that state it live in `answer_kinds.yaml` (language, not business).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tools.text import fold

_WORD = re.compile(r"[a-z0-9]+")
QUANTITY = "quantity"  # not a kind: a number of things asked about, a capacity stated
STEPS = "steps"  # not a kind: the first of a series of steps
FILLER = "filler"  # not a kind: words that say how a message is said, not what it is about
EXTREME = "extreme"  # not a kind: the lowest or highest amount asked for ("the cheapest")
LOWEST, HIGHEST = "lowest", "highest"
# An amount of money ("$49", "129 dólares", "9,99 USD"), in a folded text or as written.
AMOUNT = re.compile(
    r"[$€£]\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?(?:dollars?|d[oó]lares|usd|eur|euros?)\b",
    re.IGNORECASE,
)


# How far under the knowledge base's relevance floor a passage stating the kind asked for still
# counts (a short "¿abren el sábado?" sits far from every sentence in meaning); a kind may set its
# own (`slack:`). Fitted on the dev split.
KIND_SLACK = 0.1


@dataclass(frozen=True)
class AnswerKind:
    name: str
    asks: tuple[tuple[str, ...], ...]  # phrases as folded word tuples
    states: tuple[re.Pattern[str], ...]
    slack: float = KIND_SLACK
    # Phrases holding an asking word that do not ask ("cuando quieras": whenever).
    unless: tuple[tuple[str, ...], ...] = ()


def parse_kinds(data: dict[str, Any]) -> tuple[AnswerKind, ...]:
    """Kinds from their YAML form (`{name: {asks: [...], states: [...]}}`)."""
    kinds = []
    for name, spec in (data or {}).items():
        if name in (QUANTITY, STEPS, FILLER, EXTREME):
            continue
        asks = {tuple(_WORD.findall(fold(str(p)))) for p in spec.get("asks") or []}
        states = tuple(re.compile(str(p)) for p in spec.get("states") or [])
        slack = float(spec.get("slack", KIND_SLACK))
        unless = tuple(tuple(_WORD.findall(fold(str(p)))) for p in spec.get("unless") or [])
        asking = tuple(sorted(a for a in asks if a))
        kinds.append(AnswerKind(str(name), asking, states, slack, tuple(u for u in unless if u)))
    return tuple(kinds)


@dataclass(frozen=True)
class Quantities:
    """How many things a question says the customer has, and the capacity a passage states."""

    count: tuple[re.Pattern[str], ...]
    capacity: tuple[re.Pattern[str], ...]


def parse_quantities(data: dict[str, Any]) -> Quantities:
    spec = (data or {}).get(QUANTITY) or {}
    return Quantities(
        tuple(re.compile(str(p)) for p in spec.get("count") or []),
        tuple(re.compile(str(p)) for p in spec.get("capacity") or []),
    )


@lru_cache(maxsize=1)
def _yaml() -> dict[str, Any]:
    text = (resources.files("tools") / "answer_kinds.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text) or {}
    return data


@lru_cache(maxsize=1)
def answer_kinds() -> tuple[AnswerKind, ...]:
    return parse_kinds(_yaml())


@lru_cache(maxsize=1)
def quantities() -> Quantities:
    return parse_quantities(_yaml())


@lru_cache(maxsize=1)
def _first_steps() -> tuple[re.Pattern[str], ...]:
    spec = _yaml().get(STEPS) or {}
    return tuple(re.compile(str(p)) for p in spec.get("first") or [])


@lru_cache(maxsize=1)
def filler_words() -> frozenset[str]:
    """Words that say how a message is said ("sorry", "quick one", "disculpa"), folded."""
    spec = _yaml().get(FILLER) or {}
    return frozenset(fold(str(w)) for w in spec.get("words") or [])


def opens_steps(sentence: str, patterns: tuple[re.Pattern[str], ...] | None = None) -> bool:
    """The sentence is the first of a series of steps ("First restart the device...")."""
    folded = fold(sentence)
    return any(p.search(folded) for p in (_first_steps() if patterns is None else patterns))


def _largest(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    folded = fold(text)
    found = [int(m.group(1)) for p in patterns for m in p.finditer(folded)]
    return max(found) if found else None


def asked_count(question: str, quantity: Quantities | None = None) -> int | None:
    """How many things the customer says they have ("more than 3" -> 4, "8 aparatos" -> 8)."""
    spec = quantity or quantities()
    folded = fold(question)
    found = []
    for pattern in spec.count:
        for match in pattern.finditer(folded):
            more = match.group(0).split()[0] in ("more", "over", "mas")
            found.append(int(match.group(1)) + (1 if more else 0))
    return max(found) if found else None


def stated_capacity(passage: str, quantity: Quantities | None = None) -> int | None:
    """The number of things a sentence says something holds ("up to 10 devices" -> 10)."""
    return _largest((quantity or quantities()).capacity, passage)


def kind_words(kinds: tuple[AnswerKind, ...] | None = None) -> frozenset[str]:
    """Every word of the phrases that ask for a kind of answer."""
    return frozenset(
        w for k in (answer_kinds() if kinds is None else kinds) for a in k.asks for w in a
    )


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def asked_kinds(question: str, kinds: tuple[AnswerKind, ...] | None = None) -> frozenset[str]:
    """The kinds of answer a question asks for (none: it asks for nothing the shapes show)."""
    words = _WORD.findall(fold(question))
    return frozenset(
        kind.name
        for kind in (answer_kinds() if kinds is None else kinds)
        if any(_contains(_without(words, kind.unless), phrase) for phrase in kind.asks)
    )


def _without(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    """The words with every occurrence of these phrases blanked out."""
    kept = list(words)
    for phrase in phrases:
        size = len(phrase)
        for i in range(len(kept) - size + 1):
            if tuple(kept[i : i + size]) == phrase:
                kept[i : i + size] = [""] * size
    return kept


def stated_kinds(passage: str, kinds: tuple[AnswerKind, ...] | None = None) -> frozenset[str]:
    """The kinds of answer a passage states (an amount: "$29.99", "9,99 dólares")."""
    folded = fold(passage)
    return frozenset(
        kind.name
        for kind in (answer_kinds() if kinds is None else kinds)
        if any(pattern.search(folded) for pattern in kind.states)
    )


def kind_slack(names: frozenset[str], kinds: tuple[AnswerKind, ...] | None = None) -> float:
    """How far under the relevance floor a passage stating one of these kinds still counts."""
    slacks = [k.slack for k in (answer_kinds() if kinds is None else kinds) if k.name in names]
    return max(slacks, default=KIND_SLACK)


@lru_cache(maxsize=1)
def _extremes() -> dict[str, tuple[tuple[str, ...], ...]]:
    spec = _yaml().get(EXTREME) or {}
    return {
        side: tuple(tuple(_WORD.findall(fold(str(p)))) for p in spec.get(side) or [])
        for side in (LOWEST, HIGHEST)
    }


def asked_extreme(
    question: str, extremes: dict[str, tuple[tuple[str, ...], ...]] | None = None
) -> str | None:
    """`lowest` when the question asks for the cheapest of something ("el mas barato"),
    `highest` for the dearest; None otherwise."""
    words = _WORD.findall(fold(question))
    for side, phrases in (_extremes() if extremes is None else extremes).items():
        if any(_contains(words, phrase) for phrase in phrases if phrase):
            return side
    return None


def stated_amount(sentence: str) -> float | None:
    """The first amount of money a sentence states ("costs $49" -> 49.0, "9,99 dólares" -> 9.99)."""
    match = AMOUNT.search(fold(sentence))
    if match is None:
        return None
    return float((match.group(1) or match.group(2)).replace(",", "."))
