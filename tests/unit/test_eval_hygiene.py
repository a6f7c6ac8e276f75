"""Eval data hygiene: no eval input is (nearly) an agent's own example; dev and test stay apart."""

from __future__ import annotations

from agents import load_agents
from evals import load_dataset
from evals.dataset import SPLITS, Conversation, Turn
from evals.hygiene import near_duplicates, normalize


def _case(text: str) -> Conversation:
    return Conversation(id="x", language="es", turns=[Turn(input=text, agent="billing")])


def test_no_eval_input_duplicates_an_agent_example() -> None:
    agents = load_agents()
    for names in SPLITS.values():
        for name in names:
            found = near_duplicates(load_dataset(name), agents)
            assert not found, "\n".join(d.describe() for d in found)


def test_folded_copies_and_near_copies_are_caught() -> None:
    agents = load_agents()
    assert normalize("¿Cuánto   DEBO?! 🙏") == "cuanto debo"
    assert near_duplicates([_case("cuanto debo")], agents)  # accents, case, punctuation
    assert near_duplicates([_case("Muéstrame mi ultima factura por favor")], agents)
    assert not near_duplicates([_case("tengo algo pendiente de pago este mes?")], agents)


def test_the_held_out_split_is_large_new_and_apart_from_dev() -> None:
    dev = [c for name in SPLITS["dev"] for c in load_dataset(name)]
    test = [c for name in SPLITS["test"] for c in load_dataset(name)]
    single = [c for c in test if len(c.turns) == 1]
    assert len(single) >= 150 and sum(len(c.turns) for c in test) - len(single) >= 40
    assert {c.language for c in single} == {"en", "es"}
    dev_inputs = {normalize(t.input) for c in dev for t in c.turns}
    shared = [t.input for c in test for t in c.turns if normalize(t.input) in dev_inputs]
    assert all(len(normalize(text).split()) <= 3 for text in shared), shared  # "thanks!" may
    tags = {tag for c in test for tag in c.tags}
    for needed in ("greeting_preamble", "long", "emoji", "unseen_words", "kb_unknown", "thanks"):
        assert needed in tags, needed


def _split(split: str) -> list[Conversation]:
    return [c for name in SPLITS[split] for c in load_dataset(name)]


def _near_copies_elsewhere(split: str, min_words: int = 0) -> list[tuple[str, str]]:
    """(input, other split's input) pairs within the near-duplicate limits, for the inputs of
    `split` longer than `min_words` words (a bare "thanks!" may recur)."""
    from evals.hygiene import similarity

    others = [t.input for other in SPLITS if other != split for c in _split(other) for t in c.turns]
    return [
        (t.input, other)
        for c in _split(split)
        for t in c.turns
        if len(normalize(t.input).split()) > min_words
        for other in others
        if similarity(t.input, other) >= 1.0
    ]


def test_the_guard_split_is_new_and_apart_from_every_other_split() -> None:
    guard = _split("guard")
    assert len(guard) >= 60 and {c.language for c in guard} == {"en", "es"}
    close = _near_copies_elsewhere("guard")
    assert not close, close


def test_the_probe_split_is_english_and_no_near_copy_of_any_other_split() -> None:
    probe = _split("probe")
    assert sum(len(c.turns) for c in probe) >= 60 and {c.language for c in probe} == {"en"}
    close = _near_copies_elsewhere("probe", min_words=2)
    assert not close, close


def test_the_blind_split_is_no_near_copy_of_any_other_split() -> None:
    """Blind was drawn at random from the same writers as dev2: no blind input may be within the
    near-duplicate limits of a dev2 input (or of any other split's), or tuning on dev2 would be
    tuning on blind."""
    single = [c for c in _split("blind") if len(c.turns) == 1]
    assert len(single) >= 120 and {c.language for c in single} == {"en", "es"}
    close = _near_copies_elsewhere("blind", min_words=3)
    assert not close, close


def test_the_blind2_split_is_no_near_copy_of_any_other_split() -> None:
    """Blind2 was drawn at random from the same writers as dev4 (eighth round): no blind2 input
    may be within the near-duplicate limits of a dev4 input or of any other split's."""
    single = [c for c in _split("blind2") if len(c.turns) == 1]
    assert len(single) >= 200 and {c.language for c in single} == {"en", "es"}
    close = _near_copies_elsewhere("blind2", min_words=3)
    assert not close, f"{len(close)} blind2 inputs near a copy elsewhere (not printed: held out)"


def _assert_new_data(split: str, min_single: int) -> None:
    """A split written by new writers: no turn of it is a near copy of a held-out input (tuning
    on it would otherwise be tuning on held-out data), and its single messages are near copies of
    no other split's input."""
    from evals.hygiene import similarity

    single = [c for c in _split(split) if len(c.turns) == 1]
    assert len(single) >= min_single and {c.language for c in single} == {"en", "es"}
    held_out = ("test", "holdout", "guard", "blind", "blind2")
    pool = [t.input for s in held_out for c in _split(s) for t in c.turns]
    close = [
        t.input
        for c in _split(split)
        for t in c.turns
        if len(normalize(t.input).split()) > 2 and any(similarity(t.input, o) >= 1.0 for o in pool)
    ]
    assert not close, close
    singles = {c.turns[0].input for c in single}
    assert not [t for t, _ in _near_copies_elsewhere(split, min_words=2) if t in singles]


def test_the_dev6_split_is_new_data() -> None:
    """Dev6 (tenth round), three new writers. Near copies were dropped when it was added (49
    single messages, 14 conversation turns), without reading the held-out side."""
    _assert_new_data("dev6", 350)


def test_the_dev7_split_is_new_data() -> None:
    """Dev7 (eleventh round), three more writers: near copies dropped when it was added (47 single
    messages, 11 conversation turns), without reading the held-out side."""
    _assert_new_data("dev7", 340)


def test_the_dev8_split_is_new_data() -> None:
    """Dev8 (twelfth round), three more writers: near copies dropped when it was added (62 single
    messages, 26 conversation turns), without reading the held-out side."""
    _assert_new_data("dev8", 250)


def test_the_dev9_split_is_new_data() -> None:
    """Dev9 (thirteenth round), three more writers: near copies dropped when it was added (66
    single messages), conversation turns near a held-out input or another split's single message
    reworded (28 turns, the dev9 side only printed), without reading the held-out side."""
    _assert_new_data("dev9", 380)
