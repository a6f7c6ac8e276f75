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
better "I don't know" than a sentence that merely mentions the same name. So is a question about a
thing no passage speaks of ("does the thermostat have X?", X a real word no passage uses:
`agents.absent_words`) when the sentence shares with it only the name of a thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from agents.passage_reading import (
    WORD,
    Sentence,
    clauses,
    names_in,
    passage_sentences,
)
from agents.passage_scorer import COMPARE, LIST, REJECTED, Scorer, rank_bonus
from tools.answer_kinds import asked_count, asked_kinds, opens_steps
from tools.equivalents import equivalents, with_document_words
from tools.knowledge import translated
from tools.spelling import Speller
from tools.text import fold

__all__ = ["Scorer", "best_passage_answer", "clauses", "names_in"]

MIN_SCORE = 1.0  # under this, no sentence relates to the question by words or meaning
MAX_SENTENCES = 3
MAX_STEPS = 4  # a series of steps quoted from its first
MAX_LISTED = 6  # a list request: sentences naming what is listed
LIST_MARGIN = 2.5  # ... within this score of the best of them


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
    sentences = passage_sentences(text, language)
    if not sentences:
        return None
    passages = re.sub(r"\[source: [^\]]*\]", " ", text)
    scorer = replace(scorer, known_names=frozenset(names_in(text)), passages=passages)
    chosen: list[Sentence] = []
    parts = clauses(focus or question, scorer.terms, scorer.asks)
    if len(parts) == 1 and focus and parts[0] != focus:
        focus = parts[0]  # the question asked, not the scene ("I'm only on Basic.")
    # Each part in the documents' words too, after the split (an added word is no clause).
    question, focus = (with_document_words(t) if t else t for t in (question, focus))
    parts = [with_document_words(_with_subject(p, parts, scorer)) for p in parts]
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


def _with_subject(part: str, parts: list[str], scorer: Scorer) -> str:
    """A part that names no thing and asks only a kind of answer ("and the price?") asks it of
    what the other parts speak of: their names and topic words are added to it."""
    if len(parts) < 2 or scorer.named(part) or scorer.topic(part):
        return part
    subject = [
        word
        for other in parts
        if other != part
        for word in WORD.findall(fold(other))
        if scorer.terms(word)
        & (scorer.topic(other) | scorer.terms(" ".join(scorer.name_words(other))))
    ]
    return f"{part} {' '.join(subject)}" if subject else part


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
    # The things compared from one document that speaks of each of them alone, when one does.
    alone = {s.source for _, s in ranked}
    for name in asked_names:
        others = asked_names - {name}
        alone &= {s.source for _, s in ranked if _only(name, others, scorer.names_of(s.text))}
    ranked = [(score, s) for score, s in ranked if not alone or s.source in alone]
    extra: list[Sentence] = []
    for name in sorted(asked_names):
        # A sentence naming the other things compared too ("upgrading from X to Y") says what
        # they share, not what this one is.
        others = asked_names - {name}
        if any(_only(name, others, scorer.names_of(s.text)) for s in picked + extra):
            continue
        naming = [(score, s) for score, s in ranked if _only(name, others, scorer.names_of(s.text))]
        if naming:
            extra.append(max(naming, key=lambda p: p[0])[1])
    return extra


def _only(name: tuple[str, ...], others: set[tuple[str, ...]], names: set[tuple[str, ...]]) -> bool:
    """The names of a sentence hold this one and none of the others."""
    return name in names and not names & others


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
    folded = " ".join(WORD.findall(fold(asked)))
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


def _best_of(sentences: list[Sentence], scores: list[float], single: bool) -> list[Sentence]:
    ranked = sorted(
        zip(scores, sentences, strict=True), key=lambda p: (p[0], -p[1].block), reverse=True
    )
    best, top = ranked[0]
    if best - rank_bonus(top) < MIN_SCORE:
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
