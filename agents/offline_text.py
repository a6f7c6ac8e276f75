"""Words and meaning the offline model compares: content terms, and cosines as shared words."""

from __future__ import annotations

import re

from tools.embeddings import sentence_encoder
from tools.knowledge import STOPWORDS
from tools.text import fold

WORD = re.compile(r"[a-z0-9]+")
# Spanish gerunds first ("desenchufando" -> "desenchuf"); a participle keeps its ending: a state
# ("conectado") is no action ("conecta").
_STEMS = (
    *("ando", "iendo"),
    *("ing", "es", "s", "ar", "er", "ir", "os", "as", "a", "o", "e"),
)
# A pronoun written onto an infinitive or gerund ("reiniciarlo", "desenchufandolo").
_ENCLITIC = re.compile(
    r"(?<=ar|er|ir|do)(?:selo|sela|melo|mela|los|las|les|nos|lo|la|le|me|se|te)$"
)
SEMANTIC_WEIGHT = 4.0  # a cosine of 1 counts as four shared words (tools and KB sentences)
UNRELATED = 0.3  # cosine of texts about different things (multilingual USE)


def stem(word: str) -> str:
    if len(word) >= 8:
        word = _ENCLITIC.sub("", word)
    for suffix in _STEMS:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


_ARROW = re.compile(r"\s*(?:-+>|=+>|→|⟶|➡️?)\s*")


def as_written(text: str) -> str:
    """A message as the offline model reads it: an arrow between two things read as "to"
    ("speaker kitchen -> bedroom": a move to the bedroom)."""
    return _ARROW.sub(" to ", text)


def content_terms(text: str) -> set[str]:
    """Folded, stemmed words without function words."""
    return {stem(w) for w in WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1}


def closeness(cosine: float) -> float:
    """A cosine as a number of shared words: 0 up to `UNRELATED`, SEMANTIC_WEIGHT at 1."""
    return SEMANTIC_WEIGHT * max(0.0, cosine - UNRELATED) / (1.0 - UNRELATED)


def similarities(question: str, texts: list[str]) -> list[float]:
    """Cosine of the question to each text by meaning (multilingual embeddings); zeros without
    the embedding package."""
    encoder = sentence_encoder()
    if encoder is None or not texts:
        return [0.0] * len(texts)
    vectors = encoder.encode([question, *texts])
    return [max(0.0, float(v)) for v in vectors[1:] @ vectors[0]]
