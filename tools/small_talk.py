"""Small talk by meaning, for what the phatic word lists leave behind.

`phatic.yaml` drops the greetings and thanks it knows word for word; a remainder such as
"that sorted it" (after "thanks,") or "appreciate the help, have a good one" is still small talk,
in words no list holds. Each short remaining clause is compared with the sentences of
`small_talk.yaml` by multilingual sentence embeddings: when every clause is close to one of them,
the message is small talk of the closest sentence's kind. Without the embedding package nothing
changes (the word lists alone decide).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from tools.embeddings import SentenceEncoder, Vectors, sentence_encoder

# A clause this close to a small-talk sentence is small talk on its own...
CLOSE = 0.75
# ...and this close when the message also held a thanks or goodbye phrase and the clause is not a
# question ("thanks, that sorted it"; not "thanks, any deals this weekend?").
CLOSE_AFTER_THANKS = 0.6
MAX_WORDS = 6
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1)
def _prototypes() -> tuple[SentenceEncoder, Vectors, tuple[str, ...]] | None:
    encoder = sentence_encoder()
    if encoder is None:
        return None
    data = yaml.safe_load((resources.files("tools") / "small_talk.yaml").read_text("utf-8"))
    kinds = tuple(kind for kind, sentences in data.items() for _ in sentences)
    vectors = encoder.encode([s for sentences in data.values() for s in sentences])
    return encoder, vectors, kinds


def small_talk_kind(clauses: list[str], *, after_thanks: bool, question: bool) -> str | None:
    """The small-talk kind of these clauses (the message without its phatic phrases), or None
    when any of them says something else."""
    if not clauses or any(len(c.split()) > MAX_WORDS or _DIGIT.search(c) for c in clauses):
        return None
    found = _prototypes()
    if found is None:
        return None
    encoder, vectors, kinds = found
    similarity = encoder.encode(clauses) @ vectors.T
    floor = CLOSE_AFTER_THANKS if after_thanks and not question else CLOSE
    best = similarity.argmax(axis=1)
    if float(np.min(similarity[np.arange(len(clauses)), best])) < floor:
        return None
    return kinds[int(best[int(np.argmax(similarity.max(axis=1)))])]
