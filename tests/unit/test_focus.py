"""The focus check (agents.focus): an answer that leaves what is asked about uncovered is none."""

from __future__ import annotations

import numpy as np

from agents.focus import FocusCheck, asking_part
from agents.offline_text import content_terms, stem
from tools.embeddings import Vectors

_AXES = {"wheelchair": 0, "accessible": 1, "office": 2, "street": 3, "tiny": 4, "small": 4}


def _encode(texts: list[str]) -> Vectors:
    """Words on their own axis (tiny and small share one); a phrase is the sum of its words."""
    rows = []
    for text in texts:
        vector = np.zeros(8)
        for word in text.lower().split():
            vector[_AXES.get(word, 5 + hash(word) % 3)] += 1.0
        rows.append(vector / (np.linalg.norm(vector) or 1.0))
    return np.array(rows, dtype=np.float32)


CHECK = FocusCheck(content_terms, stem, _encode)
ADDRESS = "Our office is at 120 Market Street."


def test_an_answer_sharing_one_word_leaves_the_focus_uncovered() -> None:
    assert not CHECK.addresses("is the office wheelchair accessible?", ADDRESS, set(), set())


def test_an_answer_stating_the_kind_asked_addresses_it() -> None:
    assert CHECK.addresses("where is the wheelchair accessible office?", ADDRESS, set(), set())


def test_a_word_close_in_meaning_covers() -> None:
    answer = "The small speaker costs less."
    assert CHECK.addresses("is the tiny speaker quieter?", answer, set(), set())


def test_one_uncovered_word_never_refuses() -> None:
    assert CHECK.addresses("is the office accessible?", ADDRESS, set(), set())


def test_without_an_encoder_nothing_is_refused() -> None:
    check = FocusCheck(content_terms, stem, None)
    assert check.addresses("is the office wheelchair accessible?", ADDRESS, set(), set())


def test_the_asking_part_drops_the_scene() -> None:
    assert asking_part("Me gusta. ¿Tienen rampas? Gracias.") == "Tienen rampas"
    assert asking_part("I like it. Do you ship abroad? thanks") == "Do you ship abroad?"
