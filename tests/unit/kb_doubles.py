"""A local knowledge base with canned closeness, shared by the unit tests of retrieval."""

from __future__ import annotations

from typing import Any

from tools.knowledge import LocalKnowledgeBase, Passage


class CannedBase(LocalKnowledgeBase):
    """Retrieval with canned closeness: no index, no encoder. `meaning`: document -> cosine of
    the query; `passages`: document -> its passage."""

    def __init__(self, meaning: dict[str, float], passages: dict[str, Passage]) -> None:
        super().__init__(None, "kb", encoder=None)  # type: ignore[arg-type]
        self.encoder = object()  # type: ignore[assignment]
        self._index_checked = True
        self.meaning, self.passages = meaning, passages

    def speller(self) -> Any:
        return type("Same", (), {"correct": staticmethod(lambda text: text)})()

    def _by_words(self, query: str, language: str, limit: int) -> list[Passage]:
        return []

    def _by_meaning(self, query: str, limit: int, alone: bool = True) -> dict[str, float]:
        return self.meaning

    def _passages(self, by_words: Any, by_meaning: Any) -> dict[str, Passage]:
        return self.passages
