"""Local KB retrieval by meaning and words in one RediSearch index: unseen phrasing finds its
passage, in the customer's language; under the relevance floor nothing comes back."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from agents import default_agents_dir
from tools import LocalKnowledgeBase, ingest_path

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base(servers, settings) -> LocalKnowledgeBase:
    kb = LocalKnowledgeBase(Redis.from_url(settings.redis_url), f"kb-{uuid.uuid4().hex[:8]}")
    ingest_path(default_agents_dir() / "knowledge" / "smart-home", kb)
    return kb


def test_vectors_live_beside_the_text_in_one_index(base: LocalKnowledgeBase) -> None:
    info = base.redis.ft(base.index_name).info()
    names = {str(a[1].decode() if isinstance(a[1], bytes) else a[1]) for a in info["attributes"]}
    assert {"text", "title", "embedding"} <= names
    documents = {p.stem for p in (default_agents_dir() / "knowledge" / "smart-home").glob("*.md")}
    assert base.document_count() == len(documents)  # sentence vectors are not documents


def test_unseen_phrasing_finds_the_passage_in_the_customers_language(
    base: LocalKnowledgeBase,
) -> None:
    english = base.retrieve("my gadget keeps losing the internet connection")
    assert english and english[0].source == "troubleshooting-wifi"
    spanish = base.retrieve("mi aparato pierde la conexión a internet todo el rato")
    assert spanish and spanish[0].source == "solucion-wifi"


def test_questions_the_kb_cannot_answer_get_nothing(base: LocalKnowledgeBase) -> None:
    assert base.retrieve("what is the capital of France?") == []
    assert base.retrieve("¿quién ganó el mundial de fútbol?") == []


def test_an_index_from_before_vectors_is_upgraded(servers, settings) -> None:
    redis = Redis.from_url(settings.redis_url)
    kb_id = f"kb-{uuid.uuid4().hex[:8]}"
    old = LocalKnowledgeBase(redis, kb_id, encoder=None)
    ingest_path(default_agents_dir() / "knowledge" / "smart-home" / "location.md", old)
    assert old.retrieve("office address")[0].source == "location"
    # The next version's first search upgrades it (make run on an existing .data, a Lambda
    # container after a deploy): no ResponseError for every search until something re-ingests.
    upgraded = LocalKnowledgeBase(redis, kb_id)
    assert upgraded.retrieve("where is your showroom?")[0].source == "location"
    assert upgraded.document_count() == 1
