"""Whether a message asks for a person ("connect me with a live agent", "pásame con un asesor").

A request for a person is about who answers, not about the topic it mentions ("my speaker is
broken, put me through to a supervisor"): the router sends it to the agent that can hand the
conversation over. Read clause by clause on the request (greetings and apologies dropped): a word
for a person with, not negated, a verb of reaching before it (or of wanting, for a word that only
names a person), a verb of reaching or serving after it ("can a person help me"), or a word of
availability closing the clause ("is an operator available?"); or a request to be called back
("call me back", "que me llamen"). A clause naming a channel as a thing asked for ("what is your
phone number", "pásame el teléfono") asks for contact details instead; not one that says how to be
reached ("get me someone real on the phone"). Words are read in their base form: a plural
("humans", "asesores"), an English -ing form before the person ("speaking to people"), a passive
("be transferred"), and a one-edit typo of a word of five letters or more that is no real word
("persn", "ablar"). A question about the assistant itself ("is this a bot?") is not a request for a
person. The words live in `handoff.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import yaml

from tools.phatic import asks_about_assistant, fold, read_message
from tools.spelling import MIN_LENGTH, Speller

_CLAUSE = re.compile(r"[.!?;,\n¡¿]|\s-\s|\bbut\b|\bpero\b")
_WORD = re.compile(r"[a-z0-9']+")
NEGATION_REACH = 3  # words before the verb or the person a negation still governs
REACH_AFTER = 5  # words after the person a verb of reaching may come ("a human I can talk to")
AVAILABLE_TAIL = 3  # words that may follow "available" at the end of the clause ("right now")
CALL_OBJECT_BEFORE = 3  # words before "llamen" its object may come ("me pueden llamar")
MIN_PLURAL = 4  # shorter words ending in -s are not plurals of a person word ("as")


@dataclass(frozen=True)
class CallbackWords:
    after: frozenset[str]
    before: frozenset[str]
    whole: frozenset[str]
    object: frozenset[str]
    narrator: frozenset[str]


@dataclass(frozen=True)
class HandoffWords:
    reach: frozenset[str]
    want: tuple[tuple[str, ...], ...]  # words and phrases of wanting
    person: tuple[tuple[str, ...], ...]  # longest first
    someone: frozenset[str]
    negation: frozenset[str]
    reach_stems: tuple[str, ...]
    alone: frozenset[str]
    alone_with: frozenset[str]
    manner: frozenset[tuple[str, str]]
    passive: frozenset[str]
    serve: frozenset[str]
    owner: frozenset[str]
    available: frozenset[str]
    hours: frozenset[str]
    callback: CallbackWords
    channel: frozenset[str]
    means: frozenset[str]
    channel_manner: frozenset[str]
    condition: frozenset[str] = frozenset()
    existential: frozenset[str] = frozenset()
    nobody: frozenset[str] = frozenset()
    feature: frozenset[str] = frozenset()
    reached_only: frozenset[str] = frozenset()
    relative: frozenset[str] = frozenset()

    def reaches(self, word: str) -> bool:
        return word in self.reach or word.startswith(self.reach_stems)

    def wants_at(self, words: list[str], end: int) -> bool:
        """A word or phrase of wanting ends at `end` ("need", "i'd like", "to have")."""
        return any(
            len(phrase) <= end + 1 and tuple(words[end + 1 - len(phrase) : end + 1]) == phrase
            for phrase in self.want
        )

    def reaches_before(self, word: str, previous: str) -> bool:
        """A verb of reaching as it may come before the person: also its -ing form, and its
        past participle after "be" / "get"."""
        return self.reaches(word) or any(self.reaches(base) for base in _bases(word, previous))

    @cached_property
    def person_words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.person for w in phrase)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """The words a typo is repaired towards: of reaching, wanting, serving, availability,
        and for a person (not the callback words: "llamarlos" is no "llamarnos")."""
        wanting = frozenset(phrase[0] for phrase in self.want if len(phrase) == 1)
        return self.reach | wanting | self.person_words | self.someone | self.serve | self.available


def _bases(word: str, previous: str) -> Iterator[str]:
    """The base forms an English -ing form ("chatting") or, after "be" / "get", a past
    participle ("transferred") may have."""
    passive = previous in handoff_words().passive
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and (suffix == "ing" or passive):
            stem = word[: -len(suffix)]
            yield from (stem, stem + "e")
            if stem[-1] == stem[-2]:
                yield stem[:-1]


@lru_cache(maxsize=1)
def handoff_words() -> HandoffWords:
    data = yaml.safe_load((resources.files("tools") / "handoff.yaml").read_text("utf-8"))

    def words(value: Any) -> frozenset[str]:
        groups: list[Any] = list(value.values()) if isinstance(value, dict) else [value]
        return frozenset(fold(str(w)) for group in groups for w in (group or []))

    person = sorted({tuple(p.split()) for p in words(data["person"])}, key=len, reverse=True)
    call = data["callback"]
    return HandoffWords(
        reach=words(data["reach"]),
        want=tuple(sorted({tuple(p.split()) for p in words(data["want"])})),
        person=tuple(person),
        someone=words(data["someone"]),
        negation=words(data["negation"]),
        reach_stems=tuple(sorted(words(data.get("reach_stems", {})))),
        alone=words(data.get("alone", {})),
        alone_with=words(data["alone_with"]),
        manner=frozenset((p.split()[0], p.split()[-1]) for p in words(data["manner"])),
        passive=words(data["passive"]),
        serve=words(data["serve"]),
        owner=words(data["owner"]),
        available=words(data["available"]),
        hours=words(data["hours"]),
        callback=CallbackWords(*(words(call[k]) for k in CallbackWords.__dataclass_fields__)),
        channel=words(data["channel"]),
        means=words(data.get("means", [])),
        channel_manner=words(data.get("channel_manner", [])),
        condition=words(data.get("condition", [])),
        existential=words(data.get("existential", [])),
        nobody=words(data.get("nobody", [])),
        feature=words(data.get("feature", [])),
        reached_only=words(data.get("reached_only", [])),
        relative=words(data.get("relative", [])),
    )


@lru_cache(maxsize=1)
def _speller() -> Speller:
    return Speller(sorted(handoff_words().vocabulary))


def _base_word(word: str, vocabulary: HandoffWords) -> str:
    """The word of the vocabulary `word` is a typo (one edit, five letters or more, no real
    word) or a plural ("humans", "asesores") of; else `word`."""
    known = vocabulary.vocabulary
    if word in known or word in vocabulary.existential:
        return word  # "habra" is no typo of "habla"
    if len(word) >= MIN_LENGTH:
        repaired = fold(_speller().word(word))
        if repaired in known:
            return repaired
    if len(word) >= MIN_PLURAL and word.endswith("s"):
        for singular in (word[:-1], word[:-2]):
            if singular in vocabulary.person_words:
                return singular
    return word


def _negated(words: list[str], position: int, vocabulary: HandoffWords) -> bool:
    """A negation governs `position`, unless it asks whether there is one ("¿no hay...?") or
    belongs to a condition that ends before it ("si no jala, pásame con un técnico": the
    condition's verb stands between them)."""
    start = max(0, position - NEGATION_REACH)
    return any(
        words[i] in vocabulary.negation
        and (i + 1 >= len(words) or words[i + 1] not in vocabulary.existential)
        and not _conditional_negation(words, i, position, vocabulary)
        for i in range(start, position)
    )


def _conditional_negation(
    words: list[str], negation: int, position: int, vocabulary: HandoffWords
) -> bool:
    """The negation at `negation` opens a condition ("if it doesn't work", "si de plano no
    jala") whose own verb comes before `position`."""
    opened = any(w in vocabulary.condition for w in words[max(0, negation - 3) : negation])
    return opened and position - negation > 1


def _person_at(words: list[str], start: int, vocabulary: HandoffWords) -> str | None:
    """ "person" (a word for a person), "someone", or None at this position."""
    if start and (words[start - 1], words[start]) in vocabulary.manner:
        return None  # "in person", "en persona": how, not who
    if words[start] in vocabulary.nobody:
        # "no hay nadie con quien hablar": whether anybody is there, after a word of existence.
        there = start and words[start - 1] in vocabulary.existential
        return "someone" if there else None
    for phrase in vocabulary.person:  # before "someone": "someone real" is a word for a person
        if tuple(words[start : start + len(phrase)]) == phrase:
            return "person"
    if words[start] in vocabulary.someone:
        conditional = start > 0 and words[start - 1] in vocabulary.condition
        follower = words[start + 1] if start + 1 < len(words) else ""
        return None if conditional and follower not in vocabulary.callback.object else "someone"
    return None


def _available_at(words: list[str], start: int, vocabulary: HandoffWords) -> int | None:
    """Where a word of availability closes the clause after the person ("is an operator
    available?", "hay alguien disponible ahora"), unless the clause is about opening hours."""
    if any(w in vocabulary.hours for w in words):
        return None
    window = range(start + 1, min(len(words), start + 1 + REACH_AFTER))
    return next(
        (
            i
            for i in window
            if words[i] in vocabulary.available and len(words) - i - 1 <= AVAILABLE_TAIL
        ),
        None,
    )


def _verb_for(words: list[str], start: int, kind: str, vocabulary: HandoffWords) -> int | None:
    """The verb that asks for the person at `start`: of reaching (or, for a word for a person
    nobody owns, of wanting) before it, of reaching (or serving, likewise) after it, or a word
    of availability."""
    free_person = (
        kind == "person"
        and (start == 0 or words[start - 1] not in vocabulary.owner)
        and words[start] not in vocabulary.reached_only
    )

    def relative_between(wish: int) -> bool:
        return any(w in vocabulary.relative for w in words[wish + 1 : start])

    before = [
        i
        for i in range(start)
        if vocabulary.reaches_before(words[i], words[i - 1] if i else "")
        or (free_person and vocabulary.wants_at(words, i) and not relative_between(i))
    ]
    if before:
        return before[-1]
    window = range(start + 1, min(len(words), start + 1 + REACH_AFTER))
    after = (
        i
        for i in window
        if vocabulary.reaches(words[i]) or (free_person and words[i] in vocabulary.serve)
    )
    found = next(after, None)
    if found is None and kind == "person":
        return _available_at(words, start, vocabulary)
    return found


def _asks_for_call(words: list[str], vocabulary: HandoffWords) -> bool:
    """A request to be called back: "call me back", "can you ring me", "que me llamen",
    "llámame" (not negated, not "they call me")."""
    call = vocabulary.callback
    for i, word in enumerate(words):
        asked = (
            word in call.whole
            or (
                word in call.after
                and i + 1 < len(words)
                and words[i + 1] in call.object
                and (i == 0 or words[i - 1] not in call.narrator)
            )
            or (
                word in call.before
                and any(w in call.object for w in words[max(0, i - CALL_OBJECT_BEFORE) : i])
            )
        )
        if asked and not _negated(words, i, vocabulary):
            return not any(w in vocabulary.feature for w in words[:i])  # "incluye que me llamen?"
    return False


def _asks_for_contact(words: list[str], vocabulary: HandoffWords) -> bool:
    """The clause names a channel as a thing asked for ("pásame el teléfono de atención al
    cliente") or asks for a means ("how do I reach the team by email?"); not a channel that only
    says how to be reached ("get me someone real on the phone", "por teléfono")."""
    at = [i for i, w in enumerate(words) if w in vocabulary.channel]
    if not at:
        return False
    if any(w in vocabulary.means for w in words):
        return True

    def how(i: int) -> bool:
        before = words[max(0, i - 2) : i]
        return bool(before) and (
            before[-1] in vocabulary.channel_manner
            or (len(before) == 2 and before[0] in vocabulary.channel_manner)
        )

    return not all(how(i) for i in at)


def _clause_asks_for_person(words: list[str], vocabulary: HandoffWords) -> bool:
    """A word for a person asked for (see `_verb_for`), a word for a person as the whole
    request ("agent!", "real person now"), or a request to be called back."""
    words = [_base_word(w, vocabulary) for w in words]
    if any(w in vocabulary.alone for w in words) and all(
        w in vocabulary.alone or w in vocabulary.alone_with for w in words
    ):
        return True
    if _asks_for_call(words, vocabulary):
        return True
    if _asks_for_contact(words, vocabulary):
        return False  # how to reach the company by phone or email: contact details
    for start in range(len(words)):
        kind = _person_at(words, start, vocabulary)
        if kind is None or _negated(words, start, vocabulary):
            continue
        if any(w in vocabulary.feature for w in words[:start]):
            continue  # what a plan includes or brings ("incluye alguien que me atienda?")
        verb = _verb_for(words, start, kind, vocabulary)
        if verb is not None and not _negated(words, verb, vocabulary):
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
