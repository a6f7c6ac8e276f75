"""`wam kb ingest` adds to the bundled documents; re-ingesting a document replaces its chunks."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from redis import Redis

from agents import default_agents_dir, load_agents
from app.settings import Settings
from app.wiring import index_bundled_knowledge, indexed_sources, kb_namespace
from stores import aws_client, ensure_bucket
from tools import LocalKnowledgeBase, ingest_path

pytestmark = pytest.mark.integration


def _agents_with_own_kb(tmp_path: Path) -> tuple[Path, str]:
    """The demo agents, with their knowledge base renamed so this test has it to itself."""
    kb_id = f"kb-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "agents"
    shutil.copytree(default_agents_dir(), folder)
    for config in folder.glob("*.yaml"):
        config.write_text(config.read_text().replace("id: smart-home", f"id: {kb_id}"))
    (folder / "knowledge" / "smart-home").rename(folder / "knowledge" / kb_id)
    return folder, kb_id


def _chunks_of(base: LocalKnowledgeBase, source: str) -> int:
    redis = base.redis
    return sum(
        redis.hget(key, "source") == source.encode()
        for key in redis.scan_iter(match=f"{base.prefix}*")
    )


def test_ingest_before_first_start_keeps_the_bundled_documents(
    servers, settings: Settings, tmp_path: Path
) -> None:
    folder, kb_id = _agents_with_own_kb(tmp_path)
    ensure_bucket(aws_client("s3", settings.aws_region), settings.s3_bucket, settings.aws_region)
    redis = Redis.from_url(settings.redis_url or "")
    base = LocalKnowledgeBase(redis, kb_id, namespace=kb_namespace(folder))  # as `wam kb ingest`
    warranty = tmp_path / "warranty.md"
    warranty.write_text(
        "# Warranty\n\nEvery device has a two-year warranty.\n\n"
        + "\n\n".join(f"Clause {n}: " + "words " * 120 for n in range(4))
    )
    ingest_path(warranty, base)  # what `wam kb ingest` does before `make run`
    first_chunks = _chunks_of(base, "warranty")
    assert first_chunks > 1

    local = settings.model_copy(update={"agents_dir": folder})
    index_bundled_knowledge(local, redis, load_agents(folder))
    bundled = {p.stem for p in (folder / "knowledge" / kb_id).glob("*.md")}
    assert indexed_sources(redis, base) == bundled | {"warranty"}
    hours = base.retrieve("What are your opening hours?")
    assert hours and hours[0].source in ("hours-and-contact", "horario-y-contacto")

    # Re-ingest of a shorter version replaces the document's chunks; a restart adds nothing.
    warranty.write_text("# Warranty\n\nEvery device has a three-year warranty.\n")
    ingest_path(warranty, base)
    assert _chunks_of(base, "warranty") == 1
    count = base.document_count()
    index_bundled_knowledge(local, redis, load_agents(folder))
    assert base.document_count() == count
    assert "three-year" in base.retrieve("warranty")[0].text
