"""Which sentences of the retrieved knowledge-base passages the offline model quotes.

Every sentence of the passages (in the customer's language when there are some) is scored against
the question, as a number of shared words:

- the content words it shares with the question (and twice with the customer's own message);
- its closeness in meaning (multilingual sentence embeddings);
- the kind of answer asked for (`tools/answer_kinds.yaml`): a sentence stating an amount answers
  "how much", one stating what something includes answers "what do I get with...";
- the names the question uses (`Premium`, `Echo Mini`: capitalised words inside the passages'
  sentences): a sentence naming what is asked about gains, one naming only other things loses;
- a number of things the customer has ("6 gadgets", "8 aparatos") against the capacity a sentence
  states ("up to 10 devices").

A question of several clauses ("thermostat price? and would it work on the basic plan") is
answered clause by clause. A sentence that shares only a name with the question ("Hogar Smart Home
has three plans" for who owns the company) answers only when it states the kind of answer asked:
better "I don't know" than a sentence that merely mentions the same name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tools.answer_kinds import (
    asked_count,
    asked_kinds,
    filler_words,
    kind_words,
    opens_steps,
    stated_capacity,
    stated_kinds,
)
from tools.equivalents import equivalents, with_document_words
from tools.knowledge import STOPWORDS, translated
from tools.language import detect_language
from tools.spelling import Speller
from tools.text import fold

KIND_WEIGHT = 1.5  # stating the kind of answer asked for counts as this many shared words
NAME_WEIGHT = 2.0  # naming what is asked about; naming only other things costs as much
CAPACITY_WEIGHT = 1.5  # a capacity that holds the customer's number of things (or not)
MIN_SCORE = 1.0  # under this, no sentence relates to the question by words or meaning
NAME_ONLY_CLOSE = 0.5  # a sentence sharing only a name answers when this close in meaning
REJECTED = -1.0
RANK_WEIGHT = 0.5  # per place of its passage in the knowledge base's ranking (first: 1.0)
MAX_SENTENCES = 3
MAX_STEPS = 4  # a series of steps quoted from its first
MAX_LISTED = 6  # a list request: sentences naming what is listed
LIST_MARGIN = 2.5  # ... within this score of the best of them
LIST = "list"
COMPARE = "compare"
SHAPES = frozenset({LIST, COMPARE})  # kinds of answer made of several sentences
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[a-z]")
# Capitalised words (a run of them is one name); the first word of a sentence is not a name alone.
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")
_CLAUSE = re.compile(
    r"(?<=[?;])\s+(?:and also|and|also|y ademas|y tambien|y|ademas)?\s*"
    r"|\s+(?:and also|and|also|y ademas|y tambien|y|ademas)\s+(?=(?:what|how|when|where|which|"
    r"who|would|will|can|could|does|do|is|are|que|como|cuando|donde|cual|cuanto|hay|tienen|"
    r"funciona|sirve)\b)"
)

# A clause opening with an auxiliary asks something ("would it work on basic").
_AUXILIARY = re.compile(r"^\W*(?:would|will|can|could|should|does|do|is|are|funciona|sirve)\b")


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


Terms = Callable[[str], set[str]]
Similarities = Callable[[str, list[str]], list[float]]


@dataclass(frozen=True)
class Sentence:
    text: str
    source: str
    block: int  # order of its passage in the tool output (the knowledge base's ranking)
    heading: str


def names_in(text: str) -> set[tuple[str, ...]]:
    """Names a text uses: runs of capitalised words, folded ("The Echo Mini smart speaker" ->
    ("echo", "mini")); a single capitalised word opening a sentence is not one."""
    names: set[tuple[str, ...]] = set()
    body = re.sub(r"\[source: [^\]]*\]|^#.*$", "\n", text, flags=re.MULTILINE)
    lines = (line.strip() for line in re.split(r"\n\s*\n", body))
    for sentence in (s for line in lines for s in _SENTENCE_END.split(re.sub(r"\s+", " ", line))):
        for match in _CAPITALISED.finditer(sentence):
            words = tuple(_WORD.findall(fold(match.group(0))))
            if match.start() == 0 and (len(words) == 1 or words[0] in STOPWORDS):
                words = words[1:]  # the sentence's first word is capitalised anyway
            if words and not any(w.isdigit() for w in words):
                names.add(words)
    return names


def _mentions(words: list[str], name: tuple[str, ...]) -> bool:
    """The words use the name, in the singular or the plural ("Saturdays" names "Saturday")."""
    size, wanted = len(name), _singular(name)
    return any(_singular(words[i : i + size]) == wanted for i in range(len(words) - size + 1))


def _singular(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def clauses(question: str, terms: Terms, asks: Callable[[str], bool]) -> list[str]:
    """The parts of a question that each ask something with words of their own (at most three);
    the whole question when fewer than two do ("...more than 3 gadgets? we got like 6" is one)."""
    parts = [p.strip() for p in _CLAUSE.split(question) if p and p.strip()]
    asking = [p for p in parts if terms(p) and (asks(p) or _AUXILIARY.match(fold(p)))]
    if any(p.endswith("?") for p in asking):
        # Questions marked as such: a sentence ending in a full stop sets the scene.
        asking = [p for p in asking if not p.endswith(".")]
        if len(asking) == 1:
            return asking  # the one question, without the scene around it
    return asking[:3] if len(asking) > 1 else [question]


def _sentences(text: str, language: str) -> list[Sentence]:
    pieces = re.split(r"\[source: ([^\]]+)\]", text)
    blocks = [(i // 2, pieces[i], pieces[i + 1]) for i in range(0, len(pieces) - 1, 2)]
    # The reply is in the customer's language: a passage in another language (a translation the
    # knowledge base also returned) is quoted only when no passage is in theirs.
    own = [b for b in blocks if detect_language(b[1], default="en") == language]
    found = []
    for index, body, source in own or blocks:
        lines = body.splitlines()
        heading = " ".join(line for line in lines if line.startswith("#"))
        prose = re.sub(r"\s+", " ", " ".join(line for line in lines if not line.startswith("#")))
        found += [
            Sentence(s, source.strip(), index, heading)
            for s in _SENTENCE_END.split(prose.strip())
            if s
        ]
    return found


@dataclass(frozen=True)
class Scorer:
    """Scores sentences against one clause of the question."""

    terms: Terms
    similar: Similarities
    closeness: Callable[[float], float]
    asks: Callable[[str], bool]  # the text asks something (a question word, a question mark)
    known_names: frozenset[tuple[str, ...]] = frozenset()

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
        foreign = self._foreign_names(own, sentences)
        mentioned = self._named(focus or question) if whole else set()  # its scene's too
        scores = []
        for sentence, close in zip(sentences, meaning, strict=True):
            terms = self.terms(sentence.text)
            score = len(asking & terms) + len(focused & terms) + self.closeness(close)
            score += 0.5 * len(asking & self.terms(sentence.heading))
            score += _rank_bonus(sentence)
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
                ),
                sentence.text,
            ):
                score = REJECTED
            scores.append(score)
        return scores

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
        if _codes(named) & self.names_of(text):
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
        parts = _SENTENCE_END.split(re.sub(r"\s+", " ", own.strip()))
        # A name in a sentence that only sets the scene ("...my flat in Leeds. What does X cost?")
        # is not what is asked about.
        asking = [p for p in parts if p.rstrip().endswith("?")]
        for part in asking if asking and len(asking) < len(parts) else parts:
            part = re.sub(r"^\W+", "", part)
            for match in _CAPITALISED.finditer(part):
                name = tuple(_WORD.findall(fold(match.group(0))))
                # A capital opening a sentence is no name; a code is one wherever it stands.
                code = bool(_DIGIT.search(match.group(0)))
                if (match.start() > 0 or code) and name not in self.known_names:
                    words |= self.terms(" ".join(name))
        return words - vocabulary - how - self.terms(" ".join(translated(own)))

    def _off_topic(self, asked: Asked, text: str) -> bool:
        """The sentence relates to the question by a name or a homonym only: it names what is
        asked about but covers none of the question's topic words ("the warranty on the Home
        Speaker": its price); the question names a thing no passage knows ("Black Friday"); it
        asks only a kind of answer about a named thing and the sentence states no such kind
        ("who is the CEO of Hogar Smart Home": "Hogar Smart Home has three plans"); it states
        neither the kind asked nor the thing named ("in which year was X founded": "paying
        yearly saves two months")."""
        if asked.foreign:
            return True
        if _codes(asked.named) & self.names_of(text):
            return False  # the sentence holds the very code asked about ("HOGAR30 still valid?")
        stating = bool(asked.kinds & stated_kinds(text))
        if asked.topic and not asked.covered:
            return not stating and (bool(asked.named) or asked.linked)
        if not asked.named:
            return False
        naming = self._names(asked.named, text) > 0
        return bool(asked.kinds) and not stating and (not asked.topic or not naming)

    def _kind_terms(self) -> set[str]:
        """Words that ask for a kind of answer ("price", "when"): how a question asks, not what
        it is about ("la diferencia de precio" is no answer to "what is the difference")."""
        return self.terms(" ".join(kind_words()))

    def names_of(self, text: str) -> set[tuple[str, ...]]:
        """The passages' names a sentence uses."""
        words = _WORD.findall(fold(text))
        return {n for n in self.known_names if _mentions(words, n)}

    def named(self, text: str) -> set[tuple[str, ...]]:
        return self._named(text)

    def _named(self, text: str) -> set[tuple[str, ...]]:
        """Names of the passages the question uses; a long name may lose its last word
        ("hogar smart" names "Hogar Smart Home")."""
        words = _WORD.findall(fold(text))
        return {
            n
            for n in self.known_names
            if _mentions(words, n) or (len(n) >= 3 and _mentions(words, n[:-1]))
        }

    @staticmethod
    def _name_words(named: set[tuple[str, ...]]) -> set[str]:
        return {w for name in named for w in name}

    def _names(self, named: set[tuple[str, ...]], text: str) -> float:
        if not named:
            return 0.0
        words = _WORD.findall(fold(text))
        own = {n for n in self.known_names if _mentions(words, n)}
        if own & named:
            # Naming every thing asked about ("from Basic to Premium") beats naming one of them.
            return NAME_WEIGHT * (1 + len(own & named)) / (1 + len(named))
        # Names of other things, and none of those asked about ("The Basic plan..." for a
        # question on Enterprise); a name inside a longer one asked about does not count.
        others = {n for n in own if not any(_mentions(list(a), n) for a in named)}
        return -NAME_WEIGHT if others else 0.0

    @staticmethod
    def _capacity(count: int | None, text: str) -> float:
        capacity = stated_capacity(text)
        if count is None or capacity is None:
            return 0.0
        return CAPACITY_WEIGHT if capacity >= count else -CAPACITY_WEIGHT


def best_passage_answer(
    question: str,
    text: str,
    focus: str,
    language: str,
    scorer: Scorer,
    cite: Callable[[str, str], str],
) -> str | None:
    """The sentences of the retrieved passages that best answer the question, with their source;
    None when none relates to it (see the module docstring)."""
    speller = Speller([text])
    # In the documents' words too ("subscriptions" -> "plans"), as the knowledge base read it.
    question, focus = (speller.correct(t) if t else t for t in (question, focus))
    sentences = _sentences(text, language)
    if not sentences:
        return None
    scorer = replace(scorer, known_names=frozenset(names_in(text)))
    chosen: list[Sentence] = []
    parts = clauses(focus or question, scorer.terms, scorer.asks)
    if len(parts) == 1 and focus and parts[0] != focus:
        focus = parts[0]  # the question asked, not the scene ("I'm only on Basic.")
    # Each part in the documents' words too, after the split (an added word is no clause).
    question, focus = (with_document_words(t) if t else t for t in (question, focus))
    parts = [with_document_words(p) for p in parts]
    for clause in parts:
        whole = clause if len(parts) > 1 else question
        scores = scorer.score(whole, question, focus, sentences)
        own = clause if len(parts) > 1 else focus or question
        picked = _best_of(sentences, scores, len(parts) > 1)
        for sentence in picked + _shaped(own, scorer, sentences, scores, picked):
            if sentence not in chosen:
                chosen.append(sentence)
    if not chosen:
        return None
    if len(parts) == 1:
        flat = re.sub(r"\s+", " ", text)
        chosen.sort(key=lambda s: flat.find(s.text))
    groups: list[tuple[str, list[str]]] = []
    for sentence in chosen:  # each run of sentences of one document, then its citation
        if groups and groups[-1][0] == sentence.source:
            groups[-1][1].append(sentence.text)
        else:
            groups.append((sentence.source, [sentence.text]))
    return " ".join(f"{' '.join(texts)} {cite(source, language)}" for source, texts in groups)


def _shaped(
    asked: str,
    scorer: Scorer,
    sentences: list[Sentence],
    scores: list[float],
    picked: list[Sentence],
) -> list[Sentence]:
    """More sentences when the answer has a shape of several: the steps after the first one
    picked, every thing a list request asks for, each of the things compared."""
    if not picked:
        return []
    ranked = [(score, s) for score, s in zip(scores, sentences, strict=True) if score > REJECTED]
    kinds = asked_kinds(asked)
    if opens_steps(picked[0].text):
        after = sentences[sentences.index(picked[0]) + 1 :]
        return [s for s in after if s.block == picked[0].block][: MAX_STEPS - 1]
    if LIST in kinds:
        named = [(score, s) for score, s in ranked if scorer.names_of(s.text)]
        if not named:
            return []
        best, top = max(named, key=lambda p: p[0])
        near = [s for score, s in named if s.source == top.source and score >= best - LIST_MARGIN]
        return near[:MAX_LISTED]
    asked_names = scorer.named(asked)
    # A number of things ("6 gadgets") asks for a capacity, not for every thing of the kind.
    if not asked_names and asked_count(asked) is None:
        every = _every_of_kind(asked, scorer, ranked, picked)
        if every is not None:
            return every
    if COMPARE not in kinds or len(asked_names) < 2:
        return _other_facts(asked, scorer, sentences, picked)
    extra: list[Sentence] = []
    for name in sorted(asked_names):
        if any(name in scorer.names_of(s.text) for s in picked + extra):
            continue
        naming = [(score, s) for score, s in ranked if name in scorer.names_of(s.text)]
        if naming:
            extra.append(max(naming, key=lambda p: p[0])[1])
    return extra


def _every_of_kind(
    asked: str, scorer: Scorer, ranked: list[tuple[float, Sentence]], picked: list[Sentence]
) -> list[Sentence] | None:
    """Every sentence on a thing of the kind asked in the plural ("do you have speakers?"), in the
    passage of the best of them; None when nothing is asked in the plural."""
    kind_of_thing = _plural(asked, scorer)
    using = [(score, s) for score, s in ranked if scorer.terms(s.text) & kind_of_thing]
    if not kind_of_thing or not using:
        return None
    leading = max(using, key=lambda p: p[0])[1]
    near = [s for _, s in using if s.source == leading.source]
    return [s for s in near if s not in picked][:MAX_LISTED]


def _plural(asked: str, scorer: Scorer) -> set[str]:
    """The terms of a thing the question asks about in the plural ("speakers", "bocinas"), with
    the documents' words for it: it asks for every thing of that kind."""
    topic = scorer.topic(asked) | scorer.terms(" ".join(translated(asked)))
    found: set[str] = set()
    folded = " ".join(_WORD.findall(fold(asked)))
    added = {w for w, phrases in equivalents().items() if any(_has(folded, p) for p in phrases)}
    for word in folded.split():
        if word in added:
            continue  # the documents' word for the customer's, who may have said it in the singular
        if len(word) > 4 and word.endswith("s") and scorer.terms(word) & topic:
            documents = [w for w, phrases in equivalents().items() if word in phrases]
            singular = [word[:-1], word[:-2]] if word.endswith("es") else [word[:-1]]
            found |= scorer.terms(" ".join([word, *singular, *documents]))
    return found


def _has(folded: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", folded) is not None


def _other_facts(
    asked: str, scorer: Scorer, sentences: list[Sentence], picked: list[Sentence]
) -> list[Sentence]:
    """A question of several facts ("how much is Premium for a student": the price, and the
    student discount): a topic word the sentences picked leave out is answered by the sentence
    that best answers the question's topic alone (how it asks left out) and uses that word."""
    topic = scorer.topic(asked)
    said = {t for s in picked for t in scorer.terms(f"{s.heading} {s.text}")}
    missing = topic - said
    if not missing:
        return []
    plain = " ".join(sorted(topic | scorer.name_words(asked)))
    scores = scorer.score(plain, plain, plain, sentences)
    extra: list[Sentence] = []
    for word in sorted(missing):
        using = [
            (score, s)
            for score, s in zip(scores, sentences, strict=True)
            if score >= MIN_SCORE and word in scorer.terms(s.text) and s not in picked + extra
        ]
        if using:
            extra.append(max(using, key=lambda p: p[0])[1])
    return extra[: MAX_SENTENCES - len(picked)]


def _codes(named: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The names that are codes (letters and digits in one word: "HOGAR30", "INV-1101" read as
    one name): each names one thing only, so a sentence holding it is about it."""
    return {n for n in named if len(n) == 1 and _DIGIT.search(n[0]) and _LETTER.search(n[0])}


def _rank_bonus(sentence: Sentence) -> float:
    return RANK_WEIGHT * max(0, 2 - sentence.block)


def _best_of(sentences: list[Sentence], scores: list[float], single: bool) -> list[Sentence]:
    ranked = sorted(
        zip(scores, sentences, strict=True), key=lambda p: (p[0], -p[1].block), reverse=True
    )
    best, top = ranked[0]
    if best - _rank_bonus(top) < MIN_SCORE:
        # Nothing shares a word with the question, but the knowledge base (its relevance floor,
        # or the agent's paraphrase of the question) put this passage first: its closest
        # sentences answer ("where can I find you").
        first = min(s.block for s in sentences)
        kept = [s for score, s in ranked if s.block == first and score > REJECTED]
        return kept[:1] if single else kept[:2]
    if single:
        return [top]
    near = [s for score, s in ranked if s.source == top.source and score >= best - 1]
    return near[:MAX_SENTENCES]
