"""Retrieval from the local knowledge base (`tools.knowledge.index`): a question matched by
meaning (its closest sentences, through redisvl's `VectorQuery`) and by words (full text), kept
only when near enough (`tools.knowledge.ranking`)."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

import numpy as np
from redis import Redis
from redis.commands.search.query import Query
from redis.exceptions import ResponseError
from redisvl.query import VectorQuery
from redisvl.query.filter import Tag

from tools.answer_kinds import asked_kinds, kind_slack
from tools.embeddings import SentenceEncoder
from tools.equivalents import with_document_words
from tools.knowledge.index import LANGUAGE_NAMES, KnowledgeIndex, decoded
from tools.knowledge.passage import Passage
from tools.knowledge.ranking import (
    QUESTION_MARGIN,
    RELEVANCE_FLOOR,
    covered,
    fused,
    passage_kinds,
    ranked_by_words,
)
from tools.knowledge.vocabulary import asking_sentences, query_terms
from tools.language import detect_language


class LocalKnowledgeBase(KnowledgeIndex):
    """Hybrid retrieval over chunks stored as Redis hashes under `kb:<kb_id>:`.

    One RediSearch index holds both: each chunk (full text, stemmed in its language) and, beside
    it, one vector per sentence of the chunk (multilingual embeddings, `tools.embeddings`), which
    points back at its chunk. A question is matched by meaning (its closest sentences, through
    redisvl's `VectorQuery`) and by words (full text); passages in the customer's language come
    first. Under `relevance_floor` (cosine of the closest sentence) nothing is returned, and the
    agent says it does not know. Without the embedding package: full text only.
    """

    def __init__(
        self,
        redis: Redis,
        kb_id: str,
        *,
        encoder: SentenceEncoder | Literal["auto"] | None = "auto",
        relevance_floor: float = RELEVANCE_FLOOR,
        namespace: str = "",
    ) -> None:
        """`namespace`: whose knowledge base this is (tenancy: two business accounts may both
        name a knowledge base `products`); empty for the bundled demo agents."""
        super().__init__(redis, kb_id, encoder=encoder, namespace=namespace)
        self.relevance_floor = relevance_floor
        self._index_checked = False

    def retrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]:
        """Passages for `query`; `language`: the conversation's (English or Spanish), else the
        query's own (a model may word its query in another language than the customer's)."""
        if not query_terms(query):
            return []  # function words only: nothing to look up
        if not self._index_checked:
            # An index written by an earlier version (no vectors) is upgraded before its first
            # search, whichever process searches first (server, worker, Lambda, Studio, evals).
            self.ensure_index()
            self._index_checked = True
        language = language if language in ("en", "es") else detect_language(query)
        query = with_document_words(self.speller().correct(query))
        try:
            by_words = self._by_words(query, language, k * 3)
            by_meaning = self._by_meaning(query, k * 3) if self.encoder is not None else None
        except ResponseError as error:
            if "no such index" in str(error).lower() or "unknown index" in str(error).lower():
                return []
            raise
        if by_meaning is None:
            return ranked_by_words(by_words, language, k)
        asked = asked_kinds(query)
        passages = self._passages(by_words, by_meaning)
        close = bool(by_meaning) and max(by_meaning.values()) >= self.relevance_floor
        if not close and asking_sentences(query):
            # A question amid scene-setting ("...at night? We've had parcels go missing"): near
            # when the question alone is; the passages are still ranked by the whole message.
            by_question = self._by_meaning(query, k * 3, alone=False)
            close = max(by_question.values(), default=0.0) >= self.relevance_floor + QUESTION_MARGIN
        if not close and asked and not covered(query, by_words):
            # Near enough when a passage states what is asked (every kind asked: "when was it
            # founded" asks a time and a person, opening hours state only the time) and sits
            # just under the floor: then only passages stating it answer (in either language,
            # the fusion then prefers the customer's).
            stating = {k: p for k, p in passages.items() if asked <= passage_kinds(p)}
            close = any(
                by_meaning.get(key, 0.0) >= self.relevance_floor - kind_slack(asked & kinds)
                for key, kinds in ((k, passage_kinds(p)) for k, p in stating.items())
            )
            passages = stating
        if not close and not covered(query, by_words):
            return []  # nothing near in meaning, nor a passage holding most of the words
        return fused(passages, by_words, by_meaning, language, k, asked)

    def _by_words(self, query: str, language: str, limit: int) -> list[Passage]:
        terms = query_terms(query)
        if not terms:
            return []
        # Each term matches itself, stemmed by RediSearch in the query's language.
        expression = f"({' | '.join(_escape(term) for term in terms)}) -@kind:{{sentence}}"
        search = (
            Query(expression)
            .language(LANGUAGE_NAMES.get(language, "english"))
            .with_scores()
            .scorer("TFIDF")
            .paging(0, limit)
            .return_fields("source", "title", "text", "lang")
            .dialect(2)
        )
        result = self.redis.ft(self.index_name).search(search)
        return [self._passage(doc.id, doc, float(doc.score)) for doc in result.docs]

    def _by_meaning(self, query: str, limit: int, alone: bool = True) -> dict[str, float]:
        """Chunk key -> cosine similarity of its closest sentence to the question (`alone`), or
        to any of its questions (`asking_sentences`)."""
        assert self.encoder is not None
        best: dict[str, float] = {}
        for vector in self.encoder.encode([query] if alone else asking_sentences(query)):
            nearest = VectorQuery(
                vector=vector.astype(np.float32).tobytes(),
                vector_field_name="embedding",
                return_fields=["parent"],
                filter_expression=Tag("kind") == "sentence",
                num_results=limit,
            )
            result = self.redis.ft(self.index_name).search(nearest.query, nearest.params)
            for doc in result.docs:
                parent = decoded(doc.parent)
                similarity = 1.0 - float(doc.vector_distance)
                best[parent] = max(best.get(parent, -1.0), similarity)
        return best

    def _passages(
        self, by_words: list[Passage], by_meaning: dict[str, float]
    ) -> dict[str, Passage]:
        """Every candidate chunk, found by words or by meaning."""
        passages = {p.key: p for p in by_words}
        for key in by_meaning:
            if key not in passages:
                data = self.redis.hgetall(key)
                if data:
                    fields = {decoded(a): decoded(b) for a, b in data.items()}
                    passages[key] = self._passage(key, fields, 0.0)
        return passages

    def _passage(self, key: str, doc: Any, score: float) -> Passage:
        get = (
            doc.get
            if isinstance(doc, dict)
            else lambda name, default="": getattr(doc, name, default)
        )
        return Passage(
            kb_id=self.kb_id,
            source=decoded(get("source", "")),
            title=decoded(get("title", "")),
            text=decoded(get("text", "")),
            score=score,
            language=decoded(get("lang", "en")),
            key=decoded(key),
        )

    async def aretrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]:
        return await asyncio.to_thread(self.retrieve, query, k, language)


def _escape(term: str) -> str:
    return re.sub(r"([^\w\sáéíóúñü])", r"\\\1", term)
