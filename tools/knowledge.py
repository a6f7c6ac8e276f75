"""Knowledge-base retrieval behind one interface, with two backends.

- `LocalKnowledgeBase`: an index in the same Redis, through RediSearch: full text, stemmed in each
  document's language (English or Spanish), weighted to the title. No network, no embeddings.
- `BedrockKnowledgeBase`: langchain-aws `AmazonKnowledgeBasesRetriever` by `bedrockKbId`, through
  `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME` when set (botocore reads it).

Every passage carries its `source` (the document's name), which answers cite.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

from redis import Redis
from redis.commands.search.field import TagField, TextField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query
from redis.exceptions import ResponseError

from tools.language import detect_language

# Function words of both languages: never worth matching on.
STOPWORDS = sorted(
    set(
        "a an the and or but if of to in on at for with by from is are was were be been do does "
        "did i you he she it we they me my your our their this that these those what which who "
        "how when where why can could would should will shall may might must have has had not no "
        "yes please hi hello there any some about as into than then so too very just also "
        "el la los las un una unos unas y o pero si de del al en con por para es son fue ser "
        "estar esta este estos estas ese esa eso que cual quien como cuando donde por que porque "
        "yo tu mi mis su sus nuestro me te se lo le les nos hay muy mas ya tambien hola gracias "
        "quiero puedo puede tengo tiene".split()
    )
)
_LANGUAGE_NAMES = {"en": "english", "es": "spanish"}
_TOKEN = re.compile(r"[\wáéíóúñü]+", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    kb_id: str
    source: str
    title: str
    text: str
    score: float
    language: str = "en"

    def cited(self) -> str:
        return f"{self.text}\n[source: {self.source}]"


class KnowledgeBase(Protocol):
    kb_id: str

    def retrieve(self, query: str, k: int = 3) -> list[Passage]: ...

    async def aretrieve(self, query: str, k: int = 3) -> list[Passage]: ...


def query_terms(text: str) -> list[str]:
    terms = []
    for token in _TOKEN.findall(text.lower()):
        if token not in STOPWORDS and len(token) > 1 and token not in terms:
            terms.append(token)
    return terms


class LocalKnowledgeBase:
    """Full-text retrieval over chunks stored as Redis hashes under `kb:<kb_id>:`."""

    def __init__(self, redis: Redis, kb_id: str) -> None:
        self.redis = redis
        self.kb_id = kb_id
        self.index_name = f"kb-idx:{kb_id}"
        self.prefix = f"kb:{kb_id}:"

    def ensure_index(self) -> None:
        try:
            self.redis.ft(self.index_name).info()  # type: ignore[no-untyped-call]
            return
        except ResponseError:
            pass
        self.redis.ft(self.index_name).create_index(
            [
                TextField("title", weight=3.0),
                TextField("text"),
                TagField("source"),
                TagField("lang"),
            ],
            definition=IndexDefinition(  # type: ignore[no-untyped-call]
                prefix=[self.prefix], index_type=IndexType.HASH, language_field="language"
            ),
            stopwords=STOPWORDS,
        )

    def add_chunks(self, source: str, title: str, chunks: list[str], language: str) -> int:
        """Index a document's chunks, replacing that document's earlier chunks."""
        self.ensure_index()
        self.delete_source(source)
        pipe = self.redis.pipeline(transaction=True)
        for position, chunk in enumerate(chunks):
            digest = hashlib.sha1(f"{source}:{position}".encode()).hexdigest()[:16]
            pipe.hset(
                f"{self.prefix}{digest}",
                mapping={
                    "source": source,
                    "title": title,
                    "text": chunk,
                    "lang": language,
                    "language": _LANGUAGE_NAMES.get(language, "english"),
                    "position": position,
                },
            )
        pipe.sadd(f"kbmeta:{self.kb_id}:titles", title)
        pipe.execute()
        return len(chunks)

    def titles(self) -> list[str]:
        """Titles of the indexed documents (the search tool shows them as examples)."""
        return sorted(_text(t) for t in self.redis.smembers(f"kbmeta:{self.kb_id}:titles"))

    def delete_source(self, source: str) -> None:
        for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
            if self.redis.hget(key, "source") in (source, source.encode()):
                self.redis.delete(key)

    def document_count(self) -> int:
        try:
            return int(self.redis.ft(self.index_name).info()["num_docs"])  # type: ignore[no-untyped-call]
        except ResponseError:
            return 0

    def retrieve(self, query: str, k: int = 3) -> list[Passage]:
        terms = query_terms(query)
        if not terms:
            return []
        language = detect_language(query)
        # Each term matches itself, stemmed by RediSearch in the query's language.
        expression = " | ".join(_escape(term) for term in terms)
        search = (
            Query(expression)
            .language(_LANGUAGE_NAMES[language])
            .with_scores()
            .scorer("TFIDF")
            .paging(0, k * 3)
            .return_fields("source", "title", "text", "lang")
        )
        try:
            result = self.redis.ft(self.index_name).search(search)
        except ResponseError as error:
            if "no such index" in str(error).lower() or "unknown index" in str(error).lower():
                return []
            raise
        passages = [
            Passage(
                kb_id=self.kb_id,
                source=_text(doc.source),
                title=_text(doc.title),
                text=_text(doc.text),
                score=float(doc.score),
                language=_text(getattr(doc, "lang", "en")),
            )
            for doc in result.docs
        ]
        # Prefer passages in the customer's language when scores are close.
        passages.sort(
            key=lambda p: p.score * (1.25 if p.language == language else 1.0), reverse=True
        )
        unique: list[Passage] = []
        for passage in passages:
            if all(passage.text != seen.text for seen in unique):
                unique.append(passage)
        return unique[:k]

    async def aretrieve(self, query: str, k: int = 3) -> list[Passage]:
        return await asyncio.to_thread(self.retrieve, query, k)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _escape(term: str) -> str:
    return re.sub(r"([^\w\sáéíóúñü])", r"\\\1", term)


class BedrockKnowledgeBase:
    """A Bedrock Knowledge Base, through langchain-aws's retriever."""

    def __init__(self, kb_id: str, bedrock_kb_id: str, region: str, client: Any = None) -> None:
        from langchain_aws.retrievers import AmazonKnowledgeBasesRetriever

        self.kb_id = kb_id
        self.bedrock_kb_id = bedrock_kb_id
        self._retriever_class = AmazonKnowledgeBasesRetriever
        self._region = region
        self._client = client

    def _retriever(self, k: int) -> Any:
        return self._retriever_class(  # type: ignore[call-arg]
            knowledge_base_id=self.bedrock_kb_id,
            region_name=self._region,
            client=self._client,
            retrieval_config={"vectorSearchConfiguration": {"numberOfResults": k}},
        )

    def retrieve(self, query: str, k: int = 3) -> list[Passage]:
        documents = self._retriever(k).invoke(query)
        passages = []
        for document in documents:
            metadata = document.metadata or {}
            location = metadata.get("location") or {}
            uri = (location.get("s3Location") or {}).get("uri") or metadata.get("source") or ""
            source = uri.rsplit("/", 1)[-1].rsplit(".", 1)[0] if uri else self.bedrock_kb_id
            passages.append(
                Passage(
                    kb_id=self.kb_id,
                    source=source,
                    title=source,
                    text=document.page_content,
                    score=float(metadata.get("score") or 0.0),
                )
            )
        return passages

    async def aretrieve(self, query: str, k: int = 3) -> list[Passage]:
        return await asyncio.to_thread(self.retrieve, query, k)


def format_passages(passages: list[Passage]) -> str:
    """Tool output: each passage with its source, for the model to quote and cite."""
    if not passages:
        return "NO_RESULTS: the knowledge base has nothing on this question."
    return "\n\n".join(passage.cited() for passage in passages)
