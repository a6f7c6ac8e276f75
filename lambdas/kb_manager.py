"""`knowledge-base-manager`: a document put under `kb-documents/<kb id>/` is made searchable.

For a knowledge base that an agent config backs with Bedrock (`backend: bedrock`,
`bedrock_kb_id`), an ingestion job is started on each of that knowledge base's data sources (they
point at the same S3 prefix). Otherwise the document is read from S3, chunked and indexed in the
local RediSearch index the agents retrieve from (tools/ingest.py, the same code as `wam kb ingest`);
a document re-put replaces its chunks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote_plus

import structlog

from lambdas import container

log = structlog.get_logger(__name__)
PREFIX = "kb-documents/"


def document_of(record: dict[str, Any]) -> tuple[str, str, str] | None:
    """(bucket, key, kb id) of an S3 event record under `kb-documents/<kb id>/`, else None."""
    s3 = record.get("s3", {})
    bucket = s3.get("bucket", {}).get("name")
    key = unquote_plus(s3.get("object", {}).get("key", ""))
    parts = PurePosixPath(key).parts
    if not bucket or not key.startswith(PREFIX) or len(parts) < 3:
        return None
    return str(bucket), key, parts[1]


def bedrock_knowledge_bases() -> dict[str, str]:
    """Local KB id -> Bedrock knowledge base id, from the agent configs."""
    from agents import load_agents
    from app.wiring import agents_dir

    agents = load_agents(agents_dir(container.settings()))
    return {
        kb.id: kb.bedrock_kb_id
        for agent in agents.values()
        for kb in agent.config.knowledge_bases
        if kb.backend == "bedrock" and kb.bedrock_kb_id
    }


def start_ingestion(knowledge_base_id: str) -> list[str]:
    from stores import aws_client

    client = aws_client("bedrock-agent", container.settings().aws_region)
    sources = client.list_data_sources(knowledgeBaseId=knowledge_base_id)["dataSourceSummaries"]
    return [
        client.start_ingestion_job(
            knowledgeBaseId=knowledge_base_id, dataSourceId=source["dataSourceId"]
        )["ingestionJob"]["ingestionJobId"]
        for source in sources
    ]


def index_locally(bucket: str, key: str, kb_id: str) -> int:
    """Download, chunk and index one document; the number of chunks indexed."""
    from redis import Redis

    from stores import aws_client
    from tools import LocalKnowledgeBase, ingest_path

    settings = container.settings()
    if settings.redis_url is None:
        raise RuntimeError("the knowledge-base manager needs REDIS_URL")
    s3 = aws_client("s3", settings.aws_region)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / PurePosixPath(key).name
        s3.download_file(bucket, key, str(path))
        base = LocalKnowledgeBase(Redis.from_url(settings.redis_url), kb_id)
        return sum(document.chunks for document in ingest_path(path, base))


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    done: list[dict[str, Any]] = []
    for record in event.get("Records", []):
        document = document_of(record)
        if document is None:
            continue
        bucket, key, kb_id = document
        bedrock = bedrock_knowledge_bases().get(kb_id)
        if bedrock:
            jobs = start_ingestion(bedrock)
            log.info("bedrock ingestion started", kb=kb_id, jobs=jobs)
            done.append({"key": key, "bedrock_ingestion_jobs": jobs})
        else:
            chunks = index_locally(bucket, key, kb_id)
            log.info("document indexed", kb=kb_id, key=key, chunks=chunks)
            done.append({"key": key, "chunks": chunks})
    return {"documents": done}
