"""How well each sentence of the retrieved passages answers one clause of a question, as a number
of shared words: content words, closeness in meaning, the kind of answer asked for, the names
asked about and a capacity against the customer's number of things (`agents.passages`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agents.absent_words import absent_words, for_whom, standing_for
from agents.passage_reading import (
    CAPITALISED,
    DIGIT,
    SENTENCE_END,
    WORD,
    Sentence,
    Terms,
    codes,
    mentions,
)
from tools.answer_kinds import (
    LOWEST,
    asked_count,
    asked_extreme,
    asked_kinds,
    filler_words,
    kind_words,
    stated_amount,
    stated_capacity,
    stated_kinds,
)
from tools.equivalents import with_document_words
from tools.knowledge import translated
from tools.text import fold

# A one-word name right after "in" or "from" is where the customer is ("my flat in Leeds", "una
# oficina en Lima"), not what is asked about.
_PLACE = re.compile(r"\b(?:in|from|en|desde)\s+$", re.IGNORECASE)
# Where someone is, studies or works ("a student at FIU", "my daughter's at UT Austin", "soy
# estudiante de la UCR"): a name of one or more words that sets the scene.
_AT = re.compile(
    r"\b(?:at|(?:estudiantes?|alumn[oa]s?|estudio|estudia|trabajo|trabaja)\s+(?:de|en|del)"
    r"(?:\s+la|\s+el)?)\s+$",
    re.IGNORECASE,
)
KIND_WEIGHT = 1.5  # stating the kind of answer asked for counts as this many shared words
NAME_WEIGHT = 2.0  # naming what is asked about; naming only other things costs as much
CAPACITY_WEIGHT = 1.5  # a capacity that holds the customer's number of things (or not)
NAME_ONLY_CLOSE = 0.5  # a sentence sharing only a name answers when this close in meaning
REJECTED = -1.0
EXTREME_WEIGHT = 2.0  # the lowest (highest) amount, when the cheapest (dearest) is asked for
EXTREME_MARGIN = 2.0  # ... among the sentences stating one within this score of the best
RANK_WEIGHT = 0.5  # per place of its passage in the knowledge base's ranking (first: 1.0)
LIST = "list"
COMPARE = "compare"
SHAPES = frozenset({LIST, COMPARE})  # kinds of answer made of several sentences


@dataclass(frozen=True)
class Asked:
    """What one part of a question asks, against which a sentence is checked."""

    topic: set[str]  # its topic words
    covered: set[str]  # those the sentence (or its heading) uses
    foreign: set[str]  # words of names no passage knows
    named: set[tuple[str, ...]]  # the passages' names it uses
    kinds: frozenset[str]  # the kinds of answer it asks for
    # The sentence names a thing the question names, scene included (else found by meaning).
    linked: bool = False
    absent: frozenset[str] = frozenset()  # its real words no passage uses (`agents.absent_words`)
    # The documents' words for the customer's that it uses ("parlante" -> "altavoz").
    translated: frozenset[str] = frozenset()
    # It compares things it names: a sentence on one of them answers, whatever kind it states.
    compared: bool = False


Similarities = Callable[[str, list[str]], list[float]]


@dataclass(frozen=True)
class Scorer:
    """Scores sentences against one clause of the question."""

    terms: Terms
    similar: Similarities
    closeness: Callable[[float], float]
    asks: Callable[[str], bool]  # the text asks something (a question word, a question mark)
    known_names: frozenset[tuple[str, ...]] = frozenset()
    # The text of every passage retrieved (either language); empty: words are not checked.
    passages: str = ""

    def score(
        self, clause: str, question: str, focus: str, sentences: list[Sentence]
    ) -> list[float]:
        """`clause`: a part of a question of several, else the question itself."""
        whole = clause == question
        asking = self.terms(question if whole else clause) - self._kind_terms()
        focused = self.terms(focus if whole else clause) - self._kind_terms()
        own = focus or question if whole else clause  # what this part itself asks
        kinds = asked_kinds(own) - SHAPES  # a list or a comparison is stated by no sentence
        named = self._named(focus if whole else clause) or (
            set() if focus else self._named(question)
        )
        count = asked_count(own)
        meaning = self.similar(own, [s.text for s in sentences])
        topic = self._topic(own, named)
        # The documents' words for the customer's ("trial" -> "free") cover it too.
        documents = self.terms(with_document_words(own)) - self.terms(own)
        # Whom an offer is asked for, when no passage names it ("descuento pa jubilados"), is as
        # specific as a name no passage knows: no sentence on another group's offer answers.
        foreign = self._foreign_names(own, sentences) | (
            absent_words(own, self.passages, self.terms, before=for_whom())
            if self.passages
            else set()
        )
        mentioned = self._named(focus or question) if whole else set()  # its scene's too
        stood = frozenset(self.terms(" ".join(standing_for(own))))
        absent = self._absent(own, focus or question, stood)
        scores: list[float] = []
        sharing: list[bool] = []  # it shares a word with the question
        for sentence, close in zip(sentences, meaning, strict=True):
            terms = self.terms(sentence.text)
            sharing.append(bool((asking | focused) & terms))
            score = len(asking & terms) + len(focused & terms) + self.closeness(close)
            score += 0.5 * len(asking & self.terms(sentence.heading))
            score += rank_bonus(sentence)
            stated = stated_kinds(sentence.text)
            score += KIND_WEIGHT * len(kinds & stated)  # each kind asked that it states
            score += self._names(named, sentence.text)
            score += self._capacity(count, sentence.text)
            shared = (asking | focused) & terms - self._name_words(named)
            covered = (topic | documents) & (terms | self.terms(sentence.heading))
            if self._unrelated(shared, close, named, kinds, sentence.text) or self._off_topic(
                Asked(
                    topic,
                    covered,
                    foreign,
                    named,
                    kinds,
                    bool(self.names_of(sentence.text) & mentioned),
                    absent,
                    stood,
                    COMPARE in asked_kinds(own) and len(named) > 1,
                ),
                sentence.text,
            ):
                score = REJECTED
            scores.append(score)
        return extreme_bonus(asked_extreme(question), sentences, scores, sharing)

    def _unrelated(
        self,
        shared: set[str],
        close: float,
        named: set[tuple[str, ...]],
        kinds: frozenset[str],
        text: str,
    ) -> bool:
        """The sentence is no answer though it looks related: it shares only a name (or a part of
        one), or states the kind asked for without stating what is asked."""
        if shared or close >= NAME_ONLY_CLOSE or not (named or kinds):
            return False
        if codes(named) & self.names_of(text):
            return False
        mentioned = self._names(named, text) > 0
        return bool((named and not mentioned) or (kinds and not kinds & stated_kinds(text)))

    def _topic(self, own: str, named: set[tuple[str, ...]]) -> set[str]:
        """What the question is about: its content words that neither ask for a kind of answer,
        nor name a thing of the passages, nor say how it is asked ("sorry", "quick one")."""
        how = self._kind_terms() | self.terms(" ".join(filler_words()))
        names = self.terms(" ".join(self._name_words(named)))
        return self.terms(own) - how - names - self.terms(" ".join(translated(own)))

    def topic(self, own: str) -> set[str]:
        return self._topic(own, self._named(own))

    def name_words(self, own: str) -> set[str]:
        return self._name_words(self._named(own))

    def _foreign_names(self, own: str, sentences: list[Sentence]) -> set[str]:
        """Words of the names the question uses inside a sentence that no passage knows ("Black
        Friday", "Google Home"): what it asks about specifically, which a sentence must name."""
        vocabulary = {t for s in sentences for t in self.terms(s.text)}
        how = self._kind_terms() | self.terms(" ".join(filler_words()))
        words: set[str] = set()
        parts = SENTENCE_END.split(re.sub(r"\s+", " ", own.strip()))
        # A name in a sentence that only sets the scene ("...my flat in Leeds. What does X cost?")
        # or signs the message off ("Thanks, regards, Ann") is not what is asked about.
        asking = [p for p in parts if p.rstrip().endswith("?")] or [
            p for p in parts if self.asks(p) or asked_kinds(p)
        ]
        for part in asking if asking and len(asking) < len(parts) else parts:
            part = re.sub(r"^\W+", "", part)
            for match in CAPITALISED.finditer(part):
                name = tuple(WORD.findall(fold(match.group(0))))
                # A capital opening a sentence is no name; a code is one wherever it stands.
                code = bool(DIGIT.search(match.group(0)))
                before = part[: match.start()]
                where = not code and (
                    (_PLACE.search(before) and len(name) == 1) or bool(_AT.search(before))
                )
                if (match.start() > 0 or code) and name not in self.known_names and not where:
                    words |= self.terms(" ".join(name))
        return words - vocabulary - how - self.terms(" ".join(translated(own)))

    def _absent(self, own: str, whole: str, stood: frozenset[str]) -> frozenset[str]:
        """The topic words no passage speaks of (none when the passages are unknown) of the
        question, or of one part of it when that part names a thing itself ("how much is the
        thermostat, and does it have X?"); a part that names none asks about what the question
        does ("X on the speaker? for how many years?")."""
        if not self.passages:
            return frozenset()
        found = absent_words(own, self.passages, self.terms) & self.topic(own)
        if found or self.terms(own) & (self._thing_words() | stood):
            return frozenset(found)
        return frozenset(absent_words(whole, self.passages, self.terms) & self.topic(whole))

    def _off_topic(self, asked: Asked, text: str) -> bool:
        """The sentence relates to the question by a name or a homonym only: it names what is
        asked about but covers none of the question's topic words ("the warranty on the Home
        Speaker": its price); the question names a thing no passage knows ("Black Friday"); it
        asks only a kind of answer about a named thing and the sentence states no such kind
        ("who is the CEO of Hogar Smart Home": "Hogar Smart Home has three plans"); it states
        neither the kind asked nor the thing named ("in which year was X founded": "paying
        yearly saves two months"); the question asks about a thing no passage speaks of and the
        sentence shares with it only the name of a thing ("does the thermostat have bluetooth":
        its price; `agents.absent_words`)."""
        if asked.foreign:
            return True
        if asked.absent and not asked.covered - self._thing_words() - asked.translated:
            return True  # it asks about a thing no passage speaks of; the sentence names a thing
        if codes(asked.named) & self.names_of(text):
            return False  # the sentence holds the very code asked about ("HOGAR30 still valid?")
        stating = bool(asked.kinds & stated_kinds(text))
        if asked.compared and self.names_of(text) & asked.named:
            return False  # what one of the things compared is ("the difference between X and Y")
        if len(asked.named) > 1 and asked.named <= self.names_of(text):
            return False  # it states how the things asked about go together ("X works with Y?")
        if asked.topic and not asked.covered:
            return not stating and (bool(asked.named) or asked.linked)
        if not asked.named:
            return False
        naming = self._names(asked.named, text) > 0
        return bool(asked.kinds) and not stating and (not asked.topic or not naming)

    def _thing_words(self) -> set[str]:
        """The terms of the passages' names ("Smart Thermostat"): which thing a sentence is
        about, not what it says of it."""
        return self.terms(" ".join(w for name in self.known_names for w in name))

    def _kind_terms(self) -> set[str]:
        """Words that ask for a kind of answer ("price", "when"): how a question asks, not what
        it is about ("la diferencia de precio" is no answer to "what is the difference")."""
        return self.terms(" ".join(kind_words()))

    def names_of(self, text: str) -> set[tuple[str, ...]]:
        """The passages' names a sentence uses."""
        words = WORD.findall(fold(text))
        return {n for n in self.known_names if mentions(words, n)}

    def named(self, text: str) -> set[tuple[str, ...]]:
        return self._named(text)

    def _named(self, text: str) -> set[tuple[str, ...]]:
        """Names of the passages the question uses; a long name may lose its last word
        ("hogar smart" names "Hogar Smart Home")."""
        words = WORD.findall(fold(text))
        return {
            n
            for n in self.known_names
            if mentions(words, n) or (len(n) >= 3 and mentions(words, n[:-1]))
        }

    @staticmethod
    def _name_words(named: set[tuple[str, ...]]) -> set[str]:
        return {w for name in named for w in name}

    def _names(self, named: set[tuple[str, ...]], text: str) -> float:
        if not named:
            return 0.0
        words = WORD.findall(fold(text))
        own = {n for n in self.known_names if mentions(words, n)}
        if own & named:
            # Naming every thing asked about ("from Basic to Premium") beats naming one of them.
            return NAME_WEIGHT * (1 + len(own & named)) / (1 + len(named))
        # Names of other things, and none of those asked about ("The Basic plan..." for a
        # question on Enterprise); a name inside a longer one asked about does not count.
        others = {n for n in own if not any(mentions(list(a), n) for a in named)}
        return -NAME_WEIGHT if others else 0.0

    @staticmethod
    def _capacity(count: int | None, text: str) -> float:
        capacity = stated_capacity(text)
        if count is None or capacity is None:
            return 0.0
        return CAPACITY_WEIGHT if capacity >= count else -CAPACITY_WEIGHT


def extreme_bonus(
    extreme: str | None, sentences: list[Sentence], scores: list[float], sharing: list[bool]
) -> list[float]:
    """The scores with a bonus for the sentence stating the lowest (or highest) amount of those
    that answer about as well and share a word with the question ("the cheapest speaker": of
    the speakers' prices, the lowest)."""
    stating = [
        (score, amount, i)
        for i, (score, sentence) in enumerate(zip(scores, sentences, strict=True))
        if score > REJECTED and sharing[i] and (amount := stated_amount(sentence.text)) is not None
    ]
    if extreme is None or not stating:
        return scores
    best = max(score for score, _, _ in stating)
    near = [(amount, i) for score, amount, i in stating if score >= best - EXTREME_MARGIN]
    _, chosen = min(near) if extreme == LOWEST else max(near)
    return [s + EXTREME_WEIGHT if i == chosen else s for i, s in enumerate(scores)]


def rank_bonus(sentence: Sentence) -> float:
    return RANK_WEIGHT * max(0, 2 - sentence.block)
