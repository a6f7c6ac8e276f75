"""How near a question the candidate passages are, and in which order they come: the relevance
floor and its exceptions' measures, and the fusion of meaning, words, kind and language."""

from __future__ import annotations

from dataclasses import replace

from tools.answer_kinds import stated_kinds
from tools.knowledge.passage import Passage
from tools.knowledge.vocabulary import TOKEN, fold_word, query_terms, translated

# Cosine similarity of a question to the closest sentence of the knowledge base under which it has
# no answer ("I don't know"), fitted on the dev split (evals/README.md).
RELEVANCE_FLOOR = 0.25
WORD_WEIGHT = 0.1  # full-text score (scaled to the best hit) added to the cosine
WORD_COVERAGE = (
    0.6  # under the floor, a passage with this share of the question's words still counts
)
LANGUAGE_BONUS = 0.15  # a passage in the customer's language beats its translation
# A passage stating the kind of answer the question asks for (an amount, a time, a place, a way to
# get in touch; `tools/answer_kinds.yaml`) gains this much, and counts as near from this much under
# the relevance floor (a short "¿abren el sábado?" sits far from every sentence in meaning).
# Fitted on the dev split.
KIND_BONUS = 0.1
# A question of a message of several sentences, looked up alone, counts as near from this much over
# the floor: alone, it has lost the scene that tells what it is about (fitted on dev2: answerable
# questions alone at 0.39, an unanswerable one at 0.29).
QUESTION_MARGIN = 0.07


def passage_kinds(passage: Passage) -> frozenset[str]:
    """The kinds of answer a passage states (`tools.answer_kinds`)."""
    return stated_kinds(f"{passage.title}\n{passage.text}")


def fused(
    passages: dict[str, Passage],
    by_words: list[Passage],
    by_meaning: dict[str, float],
    language: str,
    k: int,
    asked: frozenset[str] = frozenset(),
) -> list[Passage]:
    """Meaning first; words add a little, and so does stating the kind of answer asked for
    (an amount for "how much"); the customer's language breaks near ties."""
    top_words = max((p.score for p in by_words), default=0.0) or 1.0
    word_share = {p.key: p.score / top_words for p in by_words}
    scored = []
    for key, passage in passages.items():
        score = by_meaning.get(key, 0.0) + WORD_WEIGHT * word_share.get(key, 0.0)
        score += LANGUAGE_BONUS if passage.language == language else 0.0
        score += KIND_BONUS if asked & passage_kinds(passage) else 0.0
        scored.append(replace(passage, score=round(score, 4)))
    scored.sort(key=lambda p: p.score, reverse=True)
    # A passage in another language only when it is clearly better than every passage in the
    # customer's (the KB keeps translations: a Spanish question gets the Spanish version).
    own = max((p.score for p in scored if p.language == language), default=None)
    if own is not None:
        scored = [p for p in scored if p.language == language or p.score > own + 0.1]
    return unique(scored)[:k]


def ranked_by_words(passages: list[Passage], language: str, k: int) -> list[Passage]:
    """Full text only: prefer passages in the customer's language when scores are close."""
    passages = sorted(
        passages, key=lambda p: p.score * (1.25 if p.language == language else 1.0), reverse=True
    )
    return unique(passages)[:k]


def unique(passages: list[Passage]) -> list[Passage]:
    """The passages, each text once (the first, best ranked)."""
    kept: list[Passage] = []
    for passage in passages:
        if all(passage.text != seen.text for seen in kept):
            kept.append(passage)
    return kept


def covered(query: str, passages: list[Passage], share: float = WORD_COVERAGE) -> bool:
    """A passage holds most of the question's content words (a short follow-up such as "and for
    enterprise?" is far from every sentence in meaning but plainly about one)."""
    # A customer's phrase and the documents' word for it count once: as the documents' word.
    customer = {fold_word(t)[:5] for t in translated(query)}
    terms = {fold_word(t)[:5] for t in query_terms(query) if len(t) > 2} - customer
    if not terms:
        return False
    for passage in passages:
        words = {fold_word(w)[:5] for w in TOKEN.findall(f"{passage.title} {passage.text}")}
        if len(terms & words) / len(terms) >= share:
            return True
    return False
