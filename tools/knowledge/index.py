"""The local knowledge base's storage: one RediSearch index in the same Redis holding each chunk
(full text, stemmed in its document's language, weighted to the title) and, beside it, one vector
per sentence of the chunk; ingestion, deletion and the documents' vocabulary for typo repair."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Literal

import numpy as np
from redis import Redis
from redis.commands.search.field import Field, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query
from redis.exceptions import ResponseError

from tools.embeddings import DIMENSIONS, SentenceEncoder, sentence_encoder
from tools.knowledge.vocabulary import STOPWORDS, split_sentences
from tools.spelling import Speller

SPELLER_TTL_S = 60.0  # the words of the indexed documents, re-read at most once a minute
LANGUAGE_NAMES = {"en": "english", "es": "spanish"}


class KnowledgeIndex:
    """Chunks stored as Redis hashes under `kb:<kb_id>:`, each with its sentences' vectors
    (multilingual embeddings, `tools.embeddings`), which point back at their chunk. Without the
    embedding package: full text only."""

    def __init__(
        self,
        redis: Redis,
        kb_id: str,
        *,
        encoder: SentenceEncoder | Literal["auto"] | None = "auto",
        namespace: str = "",
    ) -> None:
        """`namespace`: whose knowledge base this is (tenancy: two business accounts may both
        name a knowledge base `products`); empty for the bundled demo agents."""
        self.redis = redis
        self.kb_id = kb_id
        scoped = f"{namespace}:{kb_id}" if namespace else kb_id
        self.index_name = f"kb-idx:{scoped}"
        self.prefix = f"kb:{scoped}:"
        self._meta = f"kbmeta:{scoped}"
        self.encoder = sentence_encoder() if encoder == "auto" else encoder
        self._speller: tuple[float, Speller] | None = None

    def speller(self) -> Speller:
        """Typo repair towards the words of the indexed documents ("premuim" -> "premium")."""
        now = time.monotonic()
        if self._speller is None or now - self._speller[0] > SPELLER_TTL_S:
            texts = []
            for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
                found = self.redis.hmget(key, ["title", "text"])
                texts += [decoded(v) for v in found if v is not None]
            self._speller = (now, Speller(texts))
        return self._speller[1]

    def ensure_index(self) -> None:
        """Create the index; an index from before vectors is rebuilt and its chunks embedded."""
        try:
            info = self.redis.ft(self.index_name).info()  # type: ignore[no-untyped-call]
        except ResponseError:
            info = None
        if info is not None:
            if self.encoder is None or _has_field(info, "embedding"):
                return
            self.redis.ft(self.index_name).dropindex(delete_documents=False)
        fields: list[Field] = [
            TextField("title", weight=3.0),
            TextField("text"),
            TagField("source"),
            TagField("lang"),
            TagField("kind"),
        ]
        if self.encoder is not None:
            fields.append(
                VectorField(
                    "embedding",
                    "FLAT",
                    {"TYPE": "FLOAT32", "DIM": DIMENSIONS, "DISTANCE_METRIC": "COSINE"},
                )
            )
        self.redis.ft(self.index_name).create_index(
            fields,
            definition=IndexDefinition(  # type: ignore[no-untyped-call]
                prefix=[self.prefix], index_type=IndexType.HASH, language_field="language"
            ),
            stopwords=STOPWORDS,
        )
        if info is not None:
            self._embed_existing_chunks()

    def add_chunks(self, source: str, title: str, chunks: list[str], language: str) -> int:
        """Index a document's chunks, replacing that document's earlier chunks."""
        self.ensure_index()
        self.delete_source(source)
        self._speller = None
        pipe = self.redis.pipeline(transaction=True)
        for position, chunk in enumerate(chunks):
            digest = hashlib.sha1(f"{source}:{position}".encode()).hexdigest()[:16]
            key = f"{self.prefix}{digest}"
            fields = {"source": source, "title": title, "text": chunk, "lang": language}
            record: dict[Any, Any] = fields | {
                "kind": "chunk",
                "language": LANGUAGE_NAMES.get(language, "english"),
                "position": position,
            }
            pipe.hset(key, mapping=record)
            for sentence_key, mapping in self._sentence_docs(key, fields):
                pipe.hset(sentence_key, mapping=mapping)
        pipe.sadd(f"{self._meta}:titles", title)
        pipe.execute()
        return len(chunks)

    def _sentence_docs(
        self, chunk_key: str, fields: dict[str, str]
    ) -> list[tuple[str, dict[Any, Any]]]:
        """One hash per sentence of a chunk: its vector and the chunk it belongs to."""
        if self.encoder is None:
            return []
        sentences = [fields["title"], *split_sentences(fields["text"])]
        # Each sentence is read under its document's title ("Office location: Our office is...").
        vectors = self.encoder.encode(
            [sentences[0], *(f"{sentences[0]}: {s}" for s in sentences[1:])]
        )
        return [
            (
                f"{chunk_key}:s{index}",
                {
                    # Not `source`: a sentence is not a chunk of the document, only its vector.
                    "of_source": fields["source"],
                    "lang": fields["lang"],
                    "kind": "sentence",
                    "parent": chunk_key,
                    "sentence": sentence,
                    "embedding": vector.astype(np.float32).tobytes(),
                },
            )
            for index, (sentence, vector) in enumerate(zip(sentences, vectors, strict=True))
        ]

    def _embed_existing_chunks(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
            data = {decoded(k): decoded(v) for k, v in self.redis.hgetall(key).items()}
            if data.get("kind", "chunk") != "chunk" or "text" not in data:
                continue
            pipe.hset(key, "kind", "chunk")
            fields = {f: data.get(f, "") for f in ("source", "title", "text", "lang")}
            for sentence_key, mapping in self._sentence_docs(decoded(key), fields):
                pipe.hset(sentence_key, mapping=mapping)
        pipe.execute()

    def titles(self) -> list[str]:
        """Titles of the indexed documents (the search tool shows them as examples)."""
        return sorted(decoded(t) for t in self.redis.smembers(f"{self._meta}:titles"))

    def delete_source(self, source: str) -> None:
        """Delete a document's chunks and their sentence vectors."""
        for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
            owner = self.redis.hmget(key, ["source", "of_source"])
            if source in (decoded(v) for v in owner if v is not None):
                self.redis.delete(key)

    def document_count(self) -> int:
        """Indexed chunks (sentence vectors are not documents of their own)."""
        try:
            result = self.redis.ft(self.index_name).search(
                Query("-@kind:{sentence}").paging(0, 0).dialect(2)
            )
        except ResponseError:
            return 0
        return int(result.total)


def decoded(value: Any) -> str:
    """A value read from Redis, as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _has_field(info: Any, name: str) -> bool:
    for attribute in info.get("attributes", []) if isinstance(info, dict) else []:
        values = [decoded(v) for v in attribute]
        if name in values:
            return True
    return False
