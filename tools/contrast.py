"""The part of a message that carries the request, when another part only sets the scene.

"not about my bill but how much does the display cost" asks about a display; "mi altavoz va bien,
solo quería saber cuándo pago" asks about a payment. A clause that names a topic the message is
*not* about, or says something works fine, is context: it is dropped when another clause is left.
Clauses split at punctuation and before the connectives of `contrast.yaml` ("but", "just",
"pero", "solo"...); a message with no such clause is returned as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from tools.text import fold

_WORD = re.compile(r"[a-z0-9]+")
# Words of an embedded question ("I want to know if it is paid"): such a clause asks.
_WHETHER = frozenset({"if", "whether", "si"})
# How many words may come before a negated topic ("this is not about", "mi duda no es de").
NEGATION_START = 3


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class _Markers:
    splitter: re.Pattern[str]
    connectives: frozenset[str]
    negated: tuple[tuple[str, ...], ...]
    fine: tuple[tuple[str, ...], ...]
    fine_verbs: frozenset[str]
    fine_adverbs: frozenset[str]
    fine_states: tuple[tuple[str, ...], ...]
    focus: tuple[tuple[str, ...], ...]
    working_verbs: frozenset[str]
    negations: frozenset[str]
    asking_words: frozenset[str]


@lru_cache(maxsize=1)
def _markers() -> _Markers:
    data = yaml.safe_load((resources.files("tools") / "contrast.yaml").read_text("utf-8"))
    connectives = sorted(data["connectives"], key=len, reverse=True)
    alternatives = "|".join(re.escape(c) for c in connectives)
    return _Markers(
        splitter=re.compile(rf"([,.;:!?¿¡\n]+)|\s(?=(?:{alternatives})\b)", re.IGNORECASE),
        connectives=frozenset(connectives),
        negated=tuple(_words(p) for p in data["negated_topic"]),
        fine=tuple(_words(p) for p in data["fine"]),
        fine_verbs=frozenset(data["fine_verbs"]),
        fine_adverbs=frozenset(data["fine_adverbs"]),
        fine_states=tuple(_words(p) for p in data["fine_states"]),
        focus=tuple(_words(p) for p in data.get("focus", [])),
        working_verbs=frozenset(data["working_verbs"]),
        negations=frozenset(data["negations"]),
        asking_words=frozenset(data["asking_words"]),
    )


def _holds(words: tuple[str, ...], phrase: tuple[str, ...], last_start: int) -> bool:
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(min(last_start, len(words) - size) + 1))


def _states_fine(words: tuple[str, ...], markers: _Markers) -> bool:
    """A verb of being or working, not opening the clause, then (after at most one adverb) a
    word of things being fine: "the bill is all sorted", "la factura esta todo ok"."""
    for i in range(1, len(words)):
        if words[i] not in markers.fine_verbs:
            continue
        starts = [i + 1] + (
            [i + 2] if i + 1 < len(words) and words[i + 1] in markers.fine_adverbs else []
        )
        if any(words[j : j + len(s)] == s for j in starts for s in markers.fine_states):
            return True
    return False


def _says_it_works(words: tuple[str, ...], markers: _Markers) -> bool:
    """The clause ends on a verb of working, with what works before it, and holds no negation
    and no asking word: "el aparato anda", "the camera works"."""
    return (
        len(words) >= 2
        and words[-1] in markers.working_verbs
        and markers.negations.isdisjoint(words)
        and markers.asking_words.isdisjoint(words)
    )


def is_context(clause: str, question: bool = False) -> bool:
    """The clause names a topic the message is not about, or says something works fine (not
    when it asks whether it is: `question`, "ya quedo pagada la factura?")."""
    markers = _markers()
    words = _words(clause)
    return (
        any(_holds(words, p, NEGATION_START) for p in markers.negated)
        or any(_holds(words, p, len(words)) for p in markers.fine)
        or (
            not question
            and _WHETHER.isdisjoint(words)  # "quiero saber si ya quedó pagada" asks
            and _states_fine(words, markers)
        )
        or (not question and _says_it_works(words, markers))
    )


def _clauses(text: str) -> list[tuple[str, bool]]:
    """The clauses of `text`, each with whether a question mark ends it."""
    parts = _markers().splitter.split(text)
    clauses: list[tuple[str, bool]] = []
    for index in range(0, len(parts), 2):
        clause = parts[index]
        if clause and clause.strip():
            after = parts[index + 1] if index + 1 < len(parts) else None
            clauses.append((clause.strip(), "?" in (after or "")))
    return clauses


def _without_connective(clause: str) -> str:
    """The clause without a connective that opens it ("but how much" -> "how much")."""
    first, _, rest = clause.partition(" ")
    return rest if rest and fold(first) in _markers().connectives else clause


def _focus_start(clauses: list[str]) -> int | None:
    """The first clause after the first that opens by saying it is the point ("what I need is",
    "lo que no entiendo es"), connective aside."""
    for index, clause in enumerate(clauses[1:], start=1):
        words = _words(_without_connective(clause))
        if any(words[: len(p)] == p for p in _markers().focus):
            return index
    return None


def request_part(text: str) -> str:
    """`text` without its context clauses, when a clause with something else is left; from the
    clause that says it is the point, when one does."""
    found = _clauses(text)
    if len(found) < 2:
        return text
    clauses = [clause for clause, _ in found]
    focus = _focus_start(clauses)
    if focus is not None:
        return ", ".join(_without_connective(c) for c in clauses[focus:])
    context = [is_context(clause, question) for clause, question in found]
    kept = [c for c, dropped in zip(clauses, context, strict=True) if not dropped and _words(c)]
    if not any(context) or not kept:
        return text
    return ", ".join(_without_connective(c) for c in kept)
