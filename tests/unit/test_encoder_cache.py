"""The encoder's cache of vectors: a batch whose texts were cached before the cache fills up and
is cleared still gets a row for every text."""

from __future__ import annotations

import numpy as np

from tools.embeddings import DIMENSIONS, UseEncoder


class _CountingModel:
    """A stand-in for the USE model: a vector per text (its length in the first place)."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        rows = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        rows[:, 0] = [len(t) for t in texts]
        return rows


def test_a_batch_survives_the_cache_being_cleared_while_it_is_encoded() -> None:
    model = _CountingModel()
    encoder = UseEncoder(model, cache_size=3)
    encoder.encode(["a", "bb"])
    # "a" is cached; the two new texts overflow the cache, which is cleared before they are added.
    rows = encoder.encode(["a", "ccc", "dddd"])
    assert rows[:, 0].tolist() == [1.0, 3.0, 4.0]
    assert model.encoded == ["a", "bb", "ccc", "dddd"]  # "a" was not encoded twice


def test_cached_texts_are_not_encoded_again() -> None:
    model = _CountingModel()
    encoder = UseEncoder(model)
    encoder.encode(["hola", "hola", "adios"])
    encoder.encode(["adios", "hola"])
    assert model.encoded == ["hola", "adios"]
