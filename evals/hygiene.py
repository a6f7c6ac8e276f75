"""Dataset hygiene: an eval input must not be (nearly) one of the agents' own example utterances.

A router scored on its training examples says nothing about messages nobody wrote for it. Texts are
compared after folding case, accents, punctuation and emojis, by word Jaccard and by character
trigram Jaccard; either above its threshold makes a near-duplicate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from agents import LoadedAgent
from evals.dataset import Conversation

WORD_JACCARD_LIMIT = 0.6
TRIGRAM_JACCARD_LIMIT = 0.7
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class NearDuplicate:
    case_id: str
    turn: int
    text: str
    example: str
    agent_id: str
    score: float

    def describe(self) -> str:
        return (
            f"{self.case_id} turn {self.turn}: {self.text!r} ~ {self.agent_id} example "
            f"{self.example!r} ({self.score:.2f})"
        )


def normalize(text: str) -> str:
    """Case, accents, punctuation and emojis folded away; words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(plain))


def _trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@lru_cache(maxsize=16384)
def _features(text: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """A text's folded form, words and character trigrams (each split's inputs are compared with
    every other split's, so each text is read once)."""
    folded = normalize(text)
    return folded, frozenset(folded.split()), frozenset(_trigrams(folded))


def similarity(a: str, b: str) -> float:
    """The larger of word and trigram Jaccard, each scaled so that 1.0 means its limit."""
    (left, left_words, left_grams), (right, right_words, right_grams) = _features(a), _features(b)
    if left == right:
        return float("inf") if left else 0.0
    words = _jaccard(left_words, right_words) / WORD_JACCARD_LIMIT
    grams = _jaccard(left_grams, right_grams) / TRIGRAM_JACCARD_LIMIT
    return max(words, grams)


def near_duplicates(
    conversations: list[Conversation], agents: dict[str, LoadedAgent]
) -> list[NearDuplicate]:
    """Every eval turn whose input is (nearly) an agent's example; empty when the data is clean."""
    examples = [
        (agent_id, example)
        for agent_id, agent in agents.items()
        for example in agent.config.all_examples()
    ]
    found = []
    for conversation in conversations:
        for position, turn in enumerate(conversation.turns):
            scored = [(similarity(turn.input, ex), agent_id, ex) for agent_id, ex in examples]
            score, agent_id, example = max(scored, key=lambda item: item[0])
            if score >= 1.0:
                found.append(
                    NearDuplicate(conversation.id, position, turn.input, example, agent_id, score)
                )
    return found
