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
from tools.spelling import shorthand
from tools.text import fold

# A clause this close to a small-talk sentence is small talk on its own...
CLOSE = 0.75
# ...and this close when the message also held a thanks or goodbye phrase and the clause is not a
# question ("thanks, that sorted it"; not "thanks, any deals this weekend?").
CLOSE_AFTER_THANKS = 0.6
MAX_WORDS = 10
_CLOSING = ("thanks", "goodbye")
_ASSISTANT = "assistant"
_DIGIT = re.compile(r"\d")
_WORDS = re.compile(r"[a-z']+")
_COMPLAINT = "complaint_words"
_EXCEPTIONS = "complaint_exceptions"
_AGREEMENT = "agreement_words"
_RESOLVED = "resolution_words"
_ASKING = "asking_words"
_NOT_KINDS = (_COMPLAINT, _EXCEPTIONS, _AGREEMENT, _RESOLVED, _ASKING)
AGREEMENT_WORDS = 4


@lru_cache(maxsize=1)
def _prototypes() -> tuple[SentenceEncoder, Vectors, tuple[str, ...]] | None:
    encoder = sentence_encoder()
    if encoder is None:
        return None
    data = _table()
    sentences = {k: texts for k, texts in data.items() if k not in _NOT_KINDS}
    kinds = tuple(kind for kind, texts in sentences.items() for _ in texts)
    vectors = encoder.encode([s for texts in sentences.values() for s in texts])
    return encoder, vectors, kinds


@lru_cache(maxsize=1)
def _table() -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(
        (resources.files("tools") / "small_talk.yaml").read_text("utf-8")
    )
    return data


@lru_cache(maxsize=1)
def _complaint_words() -> frozenset[str]:
    return frozenset(fold(w) for w in _table().get(_COMPLAINT, []))


def complains(text: str) -> bool:
    """The text holds a word of a problem or a negation ("still not working", "ya no anda"):
    never small talk by meaning, however close the encoder puts it to "it works now"."""
    folded = " ".join(w.replace("'", "") for w in _WORDS.findall(fold(text)))
    words = set(_polite_phrases().sub(" ", f" {folded} ").split())
    return not words.isdisjoint(_complaint_words())


def agrees(text: str) -> bool:
    """A few words of agreement ("sure, confirm", "ok do it", "sí, dale"), nothing else of
    substance: a yes, whether or not anything waits for one."""
    words = [w.replace("'", "") for w in _WORDS.findall(fold(text))]
    if not 0 < len(words) <= AGREEMENT_WORDS or complains(text):
        return False  # "yeah still nothing" reports a problem
    return not _agreement_words().isdisjoint(words)


def asks_something(text: str) -> bool:
    """A word of asking or of a new request ("quiero", "can", "how"...: `asking_words`)."""
    words = {w.replace("'", "") for w in _WORDS.findall(fold(text))}
    return not words.isdisjoint(_word_list(_ASKING))


def reports_resolution(text: str) -> bool:
    """A statement that the problem is gone, in any words ("ya quedó la bocina sonando", "the
    speaker finally connected"): a word of resolution, no word of a problem, nothing asked.
    The encoder places such a clause far from "it works now" once it names the device."""
    words = {w.replace("'", "") for w in _WORDS.findall(fold(text))}
    if words.isdisjoint(_word_list(_RESOLVED)) or complains(text):
        return False
    return not asks_something(text)


@lru_cache(maxsize=4)
def _word_list(key: str) -> frozenset[str]:
    return frozenset(fold(str(w)) for w in _table().get(key, []))


@lru_cache(maxsize=1)
def _agreement_words() -> frozenset[str]:
    return frozenset(fold(str(w)) for w in _table().get(_AGREEMENT, []))


@lru_cache(maxsize=1)
def _polite_phrases() -> re.Pattern[str]:
    phrases = sorted({fold(p) for p in _table().get(_EXCEPTIONS, [])}, key=len, reverse=True)
    return re.compile(r"(?<= )(?:" + "|".join(re.escape(p) for p in phrases) + r")(?= )")


def _expanded(text: str) -> str:
    """Chat shorthand spelled out ("thx a lot" -> "thanks a lot"): the encoder knows words."""
    short = shorthand()
    return " ".join(short.get(fold(word), word) for word in text.split())


def small_talk_kind(
    clauses: list[tuple[str, str]], *, after_thanks: bool, question: bool, whole: str = ""
) -> str | None:
    """The small-talk kind of a message's clauses with content, as (whole clause, clause without
    its phatic words) pairs, or None when any of them says something else. "Lovely, thank you
    dear" leaves "Lovely" and "dear": the whole clause is what is small talk, so the closer of
    the two readings counts. A clause that is itself a thanks or goodbye ("eso era todo") lowers
    the floor for the others as a thanks phrase does; `whole`, the whole message, is read too:
    close enough as a whole, it is small talk though no clause alone is."""
    # A whole clause too long to read as one sentence is read without its phatic words only.
    clauses = [(c if len(c.split()) <= MAX_WORDS else s, s) for c, s in clauses]
    texts = [_expanded(text) for pair in clauses for text in pair]
    if not clauses or any(len(c.split()) > MAX_WORDS or _DIGIT.search(c) for c in texts):
        return None
    if any(complains(text) for text, _ in clauses):
        return None
    if after_thanks and not question and all(reports_resolution(c) for c, _ in clauses):
        return "thanks"  # "gracias, ya quedó sonando": thanks for what fixed it
    found = _prototypes()
    if found is None:
        return None
    encoder, vectors, kinds = found
    whole = _expanded(whole)
    readable = bool(whole.strip()) and len(whole.split()) <= MAX_WORDS and not _DIGIT.search(whole)
    # One forward pass for the clauses and the whole message (a pass costs more than a text).
    encoded = encoder.encode([*texts, whole] if readable else texts) @ vectors.T
    similarity = encoded[: len(texts)].reshape(len(clauses), 2, -1).max(axis=1)
    best = similarity.argmax(axis=1)
    closest = similarity[np.arange(len(clauses)), best]
    closing = any(
        kinds[int(b)] in _CLOSING and float(c) >= CLOSE for b, c in zip(best, closest, strict=True)
    )
    floor = CLOSE_AFTER_THANKS if (after_thanks or closing) and not question else CLOSE
    if float(np.min(closest)) >= floor:
        found_kinds = {kinds[int(b)] for b in best}
        # A question about the assistant is answered as one, whatever small talk is around it.
        if _ASSISTANT in found_kinds:
            return _ASSISTANT
        return kinds[int(best[int(np.argmax(closest))])]
    if not readable:
        return None
    # The whole message, as one sentence, close to a small-talk one.
    whole_best = int(encoded[-1].argmax())
    return kinds[whole_best] if float(encoded[-1][whole_best]) >= CLOSE else None


def closest_kind(text: str) -> tuple[str, float] | None:
    """The small-talk kind of the sentence closest to `text` as a whole, and how close; None
    without the embedding package."""
    found = _prototypes()
    if found is None or not text.strip():
        return None
    encoder, vectors, kinds = found
    similarity = (encoder.encode([_expanded(text)]) @ vectors.T)[0]
    best = int(similarity.argmax())
    return kinds[best], float(similarity[best])
