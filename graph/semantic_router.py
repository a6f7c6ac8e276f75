"""Agent scores by meaning: multilingual sentence embeddings of a message against every agent's
profile texts (examples, description phrases, tools, integration operations, KB documents).

A message is read first (`tools.phatic`): greetings, apologies and thanks around the request are
dropped, and a long message is also scored clause by clause, so a voice-note-style paragraph routes
on its request. An agent's score for a clause is the weighted mean of its `top_k` closest texts;
its score for the message is the mean of the whole request's and the best clause's
(`whole_weight`), so a short generic clause ("how does that work", "what happens to my devices")
does not outvote what the whole message is about, while a long message still routes on its request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agents import LoadedAgent
from graph.agent_profile import Kind, agent_profiles
from tools.embeddings import SentenceEncoder, Vectors
from tools.phatic import Reading

KIND_WEIGHTS: dict[Kind, float] = {
    "example": 1.0,
    "description": 0.95,
    "tool": 0.95,
    "document": 0.9,
}


@dataclass(frozen=True)
class SemanticSettings:
    """`top_k`: closest texts averaged per agent; `classifier_weight`: weight of the linear
    classifier's probability added to that similarity; `l2` and `steps`: its training;
    `whole_weight`: the whole request's share against the best clause's in a message's score."""

    top_k: int = 2
    classifier_weight: float = 0.3
    l2: float = 1e-3
    steps: int = 300
    learning_rate: float = 2.0
    whole_weight: float = 0.5


def train_classifier(
    vectors: Vectors, labels: npt.NDArray[np.int_], classes: int, settings: SemanticSettings
) -> tuple[Vectors, Vectors]:
    """Softmax regression on the profile texts, classes balanced (an agent with many KB sentences
    does not outvote one with a few examples). Full-batch gradient descent: ~0.2 s."""
    weights = np.zeros((vectors.shape[1], classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    targets = np.eye(classes, dtype=np.float32)[labels]
    balance = (1.0 / np.bincount(labels, minlength=classes))[labels]
    balance = (balance / balance.mean()).astype(np.float32)[:, None]
    for _ in range(settings.steps):
        gradient = (softmax(vectors @ weights + bias) - targets) * balance / len(labels)
        weights -= settings.learning_rate * (vectors.T @ gradient + settings.l2 * weights)
        bias -= settings.learning_rate * gradient.sum(axis=0)
    return weights, bias


def softmax(logits: Vectors) -> Vectors:
    shifted: Vectors = np.exp(logits - logits.max(axis=1, keepdims=True))
    normalized: Vectors = shifted / shifted.sum(axis=1, keepdims=True)
    return normalized


class SemanticScorer:
    """Cosine similarity of a message's clauses to each agent's profile texts."""

    def __init__(
        self,
        agents: dict[str, LoadedAgent],
        encoder: SentenceEncoder,
        settings: SemanticSettings | None = None,
    ) -> None:
        self.encoder = encoder
        self.settings = settings or SemanticSettings()
        self.agent_ids = list(agents)
        profile = agent_profiles(agents, encoder)
        self.texts = profile
        self._matrix = encoder.encode([t.text for t in profile])
        weights = np.array([KIND_WEIGHTS[t.kind] for t in profile], dtype=np.float32)
        self._weights = weights
        self._columns = {
            agent_id: np.array([i for i, t in enumerate(profile) if t.agent_id == agent_id])
            for agent_id in self.agent_ids
        }
        labels = np.array([self.agent_ids.index(t.agent_id) for t in profile], dtype=np.int_)
        self._classifier = train_classifier(
            self._matrix, labels, len(self.agent_ids), self.settings
        )
        self._last: tuple[str, Vectors] | None = None

    def scores(self, reading: Reading) -> dict[str, float]:
        """Agent -> similarity in [0, 1] (0 for a message with no request)."""
        if not reading.request:
            self._last = None
            return dict.fromkeys(self.agent_ids, 0.0)
        clauses = [reading.request, *(s for s in reading.segments if s != reading.request)]
        vectors = self.encoder.encode(clauses)
        similarity = (vectors @ self._matrix.T) * self._weights
        self._last = (reading.request, similarity[0])
        weights, bias = self._classifier
        probabilities = softmax(vectors @ weights + bias)
        result: dict[str, float] = {}
        for index, (agent_id, columns) in enumerate(self._columns.items()):
            nearest = self._nearest(similarity[:, columns]) if columns.size else 0.0
            probability = self._blend(probabilities[:, index])
            result[agent_id] = nearest + self.settings.classifier_weight * probability
        return result

    def _blend(self, per_clause: Vectors) -> float:
        """The whole request's score, moved toward its best clause's by `1 - whole_weight`."""
        whole = float(per_clause[0])
        return self.settings.whole_weight * whole + (1 - self.settings.whole_weight) * float(
            np.max(per_clause)
        )

    def _nearest(self, block: Vectors) -> float:
        """Mean similarity of each clause to its `top_k` closest texts of one agent, blended."""
        k = min(self.settings.top_k, block.shape[1])
        top = np.partition(block, block.shape[1] - k, axis=1)[:, -k:]
        return max(0.0, self._blend(np.mean(top, axis=1)))

    def closest(self, reading: Reading, agent_id: str) -> str:
        """The agent's profile text closest to the request (for the decision's reason); reuses
        the similarities of the last `scores` call when it was for this request."""
        if not reading.request:
            return ""
        columns = self._columns[agent_id]
        if self._last is not None and self._last[0] == reading.request:
            row = self._last[1][columns]
        else:
            row = (self.encoder.encode([reading.request]) @ self._matrix[columns].T)[0]
        return self.texts[int(columns[int(np.argmax(row))])].text
