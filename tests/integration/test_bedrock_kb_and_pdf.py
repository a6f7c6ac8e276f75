"""The Bedrock Knowledge Base backend over HTTP (a local agent-runtime `Retrieve` server reached
through AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME), and PDF ingestion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from redis import Redis

from tools import BedrockKnowledgeBase, LocalKnowledgeBase, format_passages, ingest_path
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


@pytest.fixture
def agent_runtime(servers, monkeypatch):
    app = FastAPI()
    app.state.requests = []

    @app.post("/knowledgebases/{kb_id}/retrieve")
    async def retrieve(kb_id: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.requests.append({"kb_id": kb_id, "body": body})
        return {
            "retrievalResults": [
                {
                    "content": {"text": "The Premium plan costs $29.99 per month."},
                    "location": {
                        "type": "S3",
                        "s3Location": {
                            "uri": "s3://kb-bucket/kb-documents/products/plans-and-pricing.md"
                        },
                    },
                    "score": 0.87,
                }
            ]
        }

    server = BackgroundServer(app)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", server.url)
    yield app
    server.stop()


def test_bedrock_knowledge_base_retrieves_with_sources(agent_runtime) -> None:
    base = BedrockKnowledgeBase("products", "KBID123456", "us-east-1")
    passages = base.retrieve("premium price", k=2)
    assert agent_runtime.state.requests[0]["kb_id"] == "KBID123456"
    body = agent_runtime.state.requests[0]["body"]
    assert body["retrievalQuery"] == {"text": "premium price"}
    assert body["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"] == 2
    assert [(p.source, p.score) for p in passages] == [("plans-and-pricing", 0.87)]
    assert "[source: plans-and-pricing]" in format_passages(passages)


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows `text` (enough for a text extractor)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_pdf_documents_are_ingested(settings, tmp_path: Path) -> None:
    (tmp_path / "manual.pdf").write_bytes(_minimal_pdf("Hold the action button to reset the hub."))
    base = LocalKnowledgeBase(Redis.from_url(settings.redis_url), "pdf-kb")
    [document] = ingest_path(tmp_path, base)
    assert document.source == "manual" and document.chunks == 1
    [passage] = base.retrieve("how do I reset the hub?")
    assert passage.source == "manual" and "action button" in passage.text
