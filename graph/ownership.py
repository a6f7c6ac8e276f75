"""Whose thing a message is about: the customer's own or the company's catalogue.

"is my speaker online" and "what's on my invoice" are about what the customer has; "does premium
let me connect a music service", "tell me about the hub display" ask about what the company
offers. How much an agent is about the customer's own things is read off its examples: the share
of them holding a possessive of `ownership.yaml` (device help and billing examples mostly do,
sales and general ones rarely). A message without a possessive moves each agent's score by
`weight * (mean share - share)`, so a near tie between "connect Spotify to my speaker" and "does
premium let me use Spotify" goes to the catalogue. A possessive moves nothing: "will I lose my
settings if I upgrade" is still a sales question.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

from agents import LoadedAgent
from tools.text import fold

_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def possessive_words() -> frozenset[str]:
    data = yaml.safe_load((resources.files("graph") / "ownership.yaml").read_text("utf-8"))
    return frozenset(fold(str(w)) for words in data["possessive"].values() for w in words)


@lru_cache(maxsize=1)
def _sold_thing() -> dict[str, str]:
    data = yaml.safe_load((resources.files("graph") / "ownership.yaml").read_text("utf-8"))
    return {str(language): str(word) for language, word in data["sold_thing"].items()}


def sold_thing(language: str) -> str:
    """The word for a thing the business sells, in `language` ("product", "producto")."""
    words = _sold_thing()
    return words.get(language, words["en"])


def has_possessive(text: str) -> bool:
    """The text names something as the customer's own ("my", "mis", "our")."""
    return not possessive_words().isdisjoint(_WORD.findall(fold(text)))


class Ownership:
    """Per agent, how far its examples are about the customer's own things, centred on the mean."""

    def __init__(self, agents: dict[str, LoadedAgent]) -> None:
        shares: dict[str, float] = {}
        for agent_id, agent in agents.items():
            examples = agent.config.all_examples()
            owned = sum(has_possessive(e) for e in examples)
            shares[agent_id] = owned / len(examples) if examples else 0.0
        mean = sum(shares.values()) / len(shares) if shares else 0.0
        self.leaning = {agent_id: share - mean for agent_id, share in shares.items()}

    def adjustments(self, text: str, weight: float) -> dict[str, float]:
        """What to add to each agent's score for this message."""
        if has_possessive(text):
            return dict.fromkeys(self.leaning, 0.0)
        return {agent_id: -weight * lean for agent_id, lean in self.leaning.items()}
