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
import time
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
from redis import Redis
from redis.commands.search.field import Field, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query
from redis.exceptions import ResponseError
from redisvl.query import VectorQuery
from redisvl.query.filter import Tag

from tools.answer_kinds import asked_kinds, kind_slack, stated_kinds
from tools.embeddings import DIMENSIONS, SentenceEncoder, sentence_encoder
from tools.equivalents import equivalents, with_document_words
from tools.language import detect_language
from tools.spelling import Speller

# Cosine similarity of a question to the closest sentence of the knowledge base under which it has
# no answer ("I don't know"), fitted on the dev split (evals/README.md).
RELEVANCE_FLOOR = 0.25
WORD_WEIGHT = 0.1  # full-text score (scaled to the best hit) added to the cosine
WORD_COVERAGE = (
    0.6  # under the floor, a passage with this share of the question's words still counts
)
LANGUAGE_BONUS = 0.15  # a passage in the customer's language beats its translation
# Cosine of a question to one of the agent's example questions above which they ask the same thing
# (fitted on the dev split: paraphrases 0.56-0.58, unanswerable questions at most 0.53).
PARAPHRASE = 0.55
# A passage stating the kind of answer the question asks for (an amount, a time, a place, a way to
# get in touch; `tools/answer_kinds.yaml`) gains this much, and counts as near from this much under
# the relevance floor (a short "¿abren el sábado?" sits far from every sentence in meaning).
# Fitted on the dev split.
KIND_BONUS = 0.1
# A question of a message of several sentences, looked up alone, counts as near from this much over
# the floor: alone, it has lost the scene that tells what it is about (fitted on dev2: answerable
# questions alone at 0.39, an unanswerable one at 0.29).
QUESTION_MARGIN = 0.07
SPELLER_TTL_S = 60.0  # the words of the indexed documents, re-read at most once a minute

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
        "quiero puedo puede tengo tiene all every todo todos toda todas cada".split()
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
    key: str = ""

    def cited(self) -> str:
        return f"{self.text}\n[source: {self.source}]"


class KnowledgeBase(Protocol):
    kb_id: str

    def retrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]: ...

    async def aretrieve(
        self, query: str, k: int = 3, language: str | None = None
    ) -> list[Passage]: ...


def query_terms(text: str) -> list[str]:
    terms = []
    for token in _TOKEN.findall(text.lower()):
        if token not in STOPWORDS and len(token) > 1 and token not in terms:
            terms.append(token)
    return terms


class LocalKnowledgeBase:
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
        self.redis = redis
        self.kb_id = kb_id
        scoped = f"{namespace}:{kb_id}" if namespace else kb_id
        self.index_name = f"kb-idx:{scoped}"
        self.prefix = f"kb:{scoped}:"
        self._meta = f"kbmeta:{scoped}"
        self.encoder = sentence_encoder() if encoder == "auto" else encoder
        self.relevance_floor = relevance_floor
        self._speller: tuple[float, Speller] | None = None
        self._index_checked = False

    def speller(self) -> Speller:
        """Typo repair towards the words of the indexed documents ("premuim" -> "premium")."""
        now = time.monotonic()
        if self._speller is None or now - self._speller[0] > SPELLER_TTL_S:
            texts = []
            for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
                found = self.redis.hmget(key, ["title", "text"])
                texts += [_text(v) for v in found if v is not None]
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
                "language": _LANGUAGE_NAMES.get(language, "english"),
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
            data = {_text(k): _text(v) for k, v in self.redis.hgetall(key).items()}
            if data.get("kind", "chunk") != "chunk" or "text" not in data:
                continue
            pipe.hset(key, "kind", "chunk")
            fields = {f: data.get(f, "") for f in ("source", "title", "text", "lang")}
            for sentence_key, mapping in self._sentence_docs(_text(key), fields):
                pipe.hset(sentence_key, mapping=mapping)
        pipe.execute()

    def titles(self) -> list[str]:
        """Titles of the indexed documents (the search tool shows them as examples)."""
        return sorted(_text(t) for t in self.redis.smembers(f"{self._meta}:titles"))

    def delete_source(self, source: str) -> None:
        """Delete a document's chunks and their sentence vectors."""
        for key in self.redis.scan_iter(match=f"{self.prefix}*", count=500):
            owner = self.redis.hmget(key, ["source", "of_source"])
            if source in (_text(v) for v in owner if v is not None):
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
            return _ranked_by_words(by_words, language, k)
        asked = asked_kinds(query)
        passages = self._passages(by_words, by_meaning)
        close = bool(by_meaning) and max(by_meaning.values()) >= self.relevance_floor
        if not close and asking_sentences(query):
            # A question amid scene-setting ("...at night? We've had parcels go missing"): near
            # when the question alone is; the passages are still ranked by the whole message.
            by_question = self._by_meaning(query, k * 3, alone=False)
            close = max(by_question.values(), default=0.0) >= self.relevance_floor + QUESTION_MARGIN
        if not close and asked and not _covered(query, by_words):
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
        if not close and not _covered(query, by_words):
            return []  # nothing near in meaning, nor a passage holding most of the words
        return self._fused(passages, by_words, by_meaning, language, k, asked)

    def _by_words(self, query: str, language: str, limit: int) -> list[Passage]:
        terms = query_terms(query)
        if not terms:
            return []
        # Each term matches itself, stemmed by RediSearch in the query's language.
        expression = f"({' | '.join(_escape(term) for term in terms)}) -@kind:{{sentence}}"
        search = (
            Query(expression)
            .language(_LANGUAGE_NAMES.get(language, "english"))
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
                parent = _text(doc.parent)
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
                    fields = {_text(a): _text(b) for a, b in data.items()}
                    passages[key] = self._passage(key, fields, 0.0)
        return passages

    def _fused(
        self,
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
        return _unique(scored)[:k]

    def _passage(self, key: str, doc: Any, score: float) -> Passage:
        get = (
            doc.get
            if isinstance(doc, dict)
            else lambda name, default="": getattr(doc, name, default)
        )
        return Passage(
            kb_id=self.kb_id,
            source=_text(get("source", "")),
            title=_text(get("title", "")),
            text=_text(get("text", "")),
            score=score,
            language=_text(get("lang", "en")),
            key=_text(key),
        )

    async def aretrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]:
        return await asyncio.to_thread(self.retrieve, query, k, language)


class Paraphrases:
    """The agent's own example questions, as a second way into its knowledge base.

    A short question such as "where can I find you" sits far, in meaning, from every statement of
    the documents ("Our office and showroom is at..."), but close to an example the business wrote
    for the agent ("Where are you located?"), which is itself close to the right passage. When the
    question finds nothing, the knowledge base is asked again with the closest example, only when
    that example says nearly the same thing (`PARAPHRASE` cosine, fitted on the dev split).
    """

    def __init__(self, examples: dict[str, list[str]], encoder: SentenceEncoder | None) -> None:
        """`examples`: language -> example questions (an agent config's `examples`)."""
        pairs = [(text, lang) for lang, texts in examples.items() for text in texts if text.strip()]
        self.examples = [text for text, _ in pairs]
        self.languages = [lang for _, lang in pairs]
        self.encoder = encoder
        self._vectors: Any = None

    def closest(self, question: str, language: str | None = None) -> str | None:
        """The closest example in the conversation's language (`language`, else the
        question's): the passages found with it are then in the customer's language too, when
        it says nearly the same thing."""
        language = language if language in ("en", "es") else detect_language(question)
        own = [i for i, lang in enumerate(self.languages) if lang == language]
        if self.encoder is None or not own or not question.strip():
            return None
        if self._vectors is None:
            self._vectors = self.encoder.encode(self.examples)
        similarity = self._vectors[own] @ self.encoder.encode([question])[0]
        best = int(np.argmax(similarity))
        return self.examples[own[best]] if float(similarity[best]) >= PARAPHRASE else None


def asking_sentences(query: str) -> list[str]:
    """The questions of a message of several sentences ("Does the camera see at night? We've had
    parcels go missing"): each is also looked up alone, the scene around it dilutes its meaning.
    None for a message of one sentence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", query.strip()) if s.strip()]
    if len(sentences) < 2:
        return []
    return [s for s in sentences if s.endswith("?") and len(query_terms(s)) >= 2]


def passage_kinds(passage: Passage) -> frozenset[str]:
    """The kinds of answer a passage states (`tools.answer_kinds`)."""
    return stated_kinds(f"{passage.title}\n{passage.text}")


def _ranked_by_words(passages: list[Passage], language: str, k: int) -> list[Passage]:
    """Full text only: prefer passages in the customer's language when scores are close."""
    passages = sorted(
        passages, key=lambda p: p.score * (1.25 if p.language == language else 1.0), reverse=True
    )
    return _unique(passages)[:k]


def _unique(passages: list[Passage]) -> list[Passage]:
    unique: list[Passage] = []
    for passage in passages:
        if all(passage.text != seen.text for seen in unique):
            unique.append(passage)
    return unique


def _covered(query: str, passages: list[Passage], share: float = WORD_COVERAGE) -> bool:
    """A passage holds most of the question's content words (a short follow-up such as "and for
    enterprise?" is far from every sentence in meaning but plainly about one)."""
    # A customer's phrase and the documents' word for it count once: as the documents' word.
    customer = {fold_word(t)[:5] for t in translated(query)}
    terms = {fold_word(t)[:5] for t in query_terms(query) if len(t) > 2} - customer
    if not terms:
        return False
    for passage in passages:
        words = {fold_word(w)[:5] for w in _TOKEN.findall(f"{passage.title} {passage.text}")}
        if len(terms & words) / len(terms) >= share:
            return True
    return False


def translated(text: str) -> set[str]:
    """Words of the customer's phrases whose documents' word the text also holds ("SF" beside
    "san francisco", `tools/equivalents.yaml`): the documents' word stands for them."""
    folded = " ".join(re.findall(r"[a-z0-9]+", fold_word(text)))
    words: set[str] = set()
    for word, phrases in equivalents().items():
        if re.search(rf"\b{re.escape(word)}\b", folded):
            found = (p for p in phrases if re.search(rf"\b{re.escape(p)}\b", folded))
            words.update(w for phrase in found for w in phrase.split())
    return words


def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_field(info: Any, name: str) -> bool:
    for attribute in info.get("attributes", []) if isinstance(info, dict) else []:
        values = [_text(v) for v in attribute]
        if name in values:
            return True
    return False


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk (headings dropped), for their vectors."""
    body = re.sub(r"^#.*$", "", text, flags=re.MULTILINE)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", body)) if s.strip()]


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

    def retrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]:
        documents = self._retriever(k).invoke(query)  # Bedrock ranks across languages itself
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

    async def aretrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Passage]:
        return await asyncio.to_thread(self.retrieve, query, k, language)


def format_passages(passages: list[Passage]) -> str:
    """Tool output: each passage with its source, for the model to quote and cite."""
    if not passages:
        return "NO_RESULTS: the knowledge base has nothing on this question."
    return "\n\n".join(passage.cited() for passage in passages)
