"""What a knowledge base returns: passages with their source, behind one retrieval interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


def format_passages(passages: list[Passage]) -> str:
    """Tool output: each passage with its source, for the model to quote and cite."""
    if not passages:
        return "NO_RESULTS: the knowledge base has nothing on this question."
    return "\n\n".join(passage.cited() for passage in passages)
