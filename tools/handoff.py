"""Whether a message asks for a person ("connect me with a live agent", "pásame con un asesor").

A request for a person is about who answers, not about the topic it mentions ("my speaker is
broken, put me through to a supervisor"): the router sends it to the agent that can hand the
conversation over. Read clause by clause on the request (greetings and apologies dropped): a verb
of reaching someone, then a word for a person, with no negation just before either. A question
about the assistant itself ("is this a bot?") is not a request for a person. The words live in
`handoff.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tools.phatic import asks_about_assistant, fold, read_message

_CLAUSE = re.compile(r"[.!?;,\n¡¿]|\s-\s|\bbut\b|\bpero\b")
_WORD = re.compile(r"[a-z0-9']+")
NEGATION_REACH = 3  # words before the verb or the person a negation still governs
REACH_AFTER = 5  # words after the person a verb of reaching may come ("a human I can talk to")


@dataclass(frozen=True)
class HandoffWords:
    reach: frozenset[str]
    want: frozenset[str]
    person: tuple[tuple[str, ...], ...]  # longest first
    someone: frozenset[str]
    negation: frozenset[str]
    reach_stems: tuple[str, ...]
    alone: frozenset[str]

    def reaches(self, word: str) -> bool:
        return word in self.reach or word.startswith(self.reach_stems)


@lru_cache(maxsize=1)
def handoff_words() -> HandoffWords:
    data = yaml.safe_load((resources.files("tools") / "handoff.yaml").read_text("utf-8"))

    def words(value: Any) -> list[str]:
        groups: list[Any] = list(value.values()) if isinstance(value, dict) else [value]
        return [fold(str(w)) for group in groups for w in (group or [])]

    person = sorted({tuple(p.split()) for p in words(data["person"])}, key=len, reverse=True)
    return HandoffWords(
        reach=frozenset(words(data["reach"])),
        want=frozenset(words(data["want"])),
        person=tuple(person),
        someone=frozenset(words(data["someone"])),
        negation=frozenset(words(data["negation"])),
        reach_stems=tuple(words(data.get("reach_stems", {}))),
        alone=frozenset(words(data.get("alone", {}))),
    )


def _negated(words: list[str], position: int, negation: frozenset[str]) -> bool:
    return any(w in negation for w in words[max(0, position - NEGATION_REACH) : position])


def _person_at(words: list[str], start: int, vocabulary: HandoffWords) -> str | None:
    """ "person" (a word for a person), "someone", or None at this position."""
    if words[start] in vocabulary.someone:
        return "someone"
    for phrase in vocabulary.person:
        if tuple(words[start : start + len(phrase)]) == phrase:
            return "person"
    return None


def _clause_asks_for_person(words: list[str], vocabulary: HandoffWords) -> bool:
    """A verb of reaching (or, for a word for a person, of wanting) before the person, or a verb
    of reaching soon after it ("is there a human I can talk to", "alguien que me atienda"), or a
    word for a person as the whole request ("agent!")."""
    if words and all(w in vocabulary.alone for w in words):
        return True
    for start in range(len(words)):
        kind = _person_at(words, start, vocabulary)
        if kind is None or _negated(words, start, vocabulary.negation):
            continue
        before = [
            i
            for i in range(start)
            if vocabulary.reaches(words[i]) or (kind == "person" and words[i] in vocabulary.want)
        ]
        after = [
            i
            for i in range(start + 1, min(len(words), start + 1 + REACH_AFTER))
            if vocabulary.reaches(words[i])
        ]
        verb = before[-1] if before else after[0] if after else None
        if verb is not None and not _negated(words, verb, vocabulary.negation):
            return True
    return False


def asks_for_person(text: str) -> bool:
    """The message asks to be put through to a person (not whether it is talking to one)."""
    if not read_message(text).request or asks_about_assistant(text):
        return False
    vocabulary = handoff_words()
    return any(
        _clause_asks_for_person(_WORD.findall(fold(read_message(clause).request)), vocabulary)
        for clause in _CLAUSE.split(text)
        if clause and clause.strip()
    )
