"""A Bedrock Knowledge Base as a knowledge base: langchain-aws `AmazonKnowledgeBasesRetriever` by
`bedrockKbId`, through `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME` when set (botocore reads it)."""

from __future__ import annotations

import asyncio
from typing import Any

from tools.knowledge.passage import Passage


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
