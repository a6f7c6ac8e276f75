"""The words a knowledge-base lookup reads: function words, query terms, sentences, and the
customer's phrases the documents' own word stands for (`translated`)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tools.equivalents import equivalents

# Function words of both languages: never worth matching on.
STOPWORDS = sorted(
    set(
        "a an the and or but if of to in on at for with by from is are was were be been do does "
        "did i you he she it we they me my your our their this that these those what which who "
        "how when where why can could would should will shall may might must have has had not no "
        "yes please hi hello there any some about as into than then so too very just also "
        "el la los las un una unos unas y o pero si de del al en con por para es son fue ser "
        "estar esta este estos estas ese esa eso que cual quien como cuando donde por que porque "
        "yo tu mi mis su sus nuestro me te se lo le les nos hay muy mas ya tambien hola gracias "
        "quiero puedo puede tengo tiene all every todo todos toda todas cada".split()
    )
)
TOKEN = re.compile(r"[\wáéíóúñü]+", re.IGNORECASE)
_RUN_OF_WORDS = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")

# A phrase of the equivalents table, compiled: the run of words it is (looked up among the runs of
# a text's words), or, for any other string, its own whole-word pattern.
Phrase = tuple[str, ...] | re.Pattern[str]
# A document's word, and each customer phrase it stands for with the words of that phrase.
Equivalent = tuple[Phrase, tuple[tuple[Phrase, tuple[str, ...]], ...]]


def query_terms(text: str) -> list[str]:
    terms = []
    for token in TOKEN.findall(text.lower()):
        if token not in STOPWORDS and len(token) > 1 and token not in terms:
            terms.append(token)
    return terms


def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def translated(text: str) -> set[str]:
    """Words of the customer's phrases whose documents' word the text also holds ("SF" beside
    "san francisco", `tools/equivalents.yaml`): the documents' word stands for them."""
    folded = " ".join(re.findall(r"[a-z0-9]+", fold_word(text)))
    words = folded.split()
    table, longest = _compiled_equivalents()
    runs = {
        tuple(words[start:end])
        for start in range(len(words))
        for end in range(start + 1, min(len(words), start + longest) + 1)
    }

    def holds(phrase: Phrase) -> bool:
        return phrase in runs if isinstance(phrase, tuple) else bool(phrase.search(folded))

    found: set[str] = set()
    for word, phrases in table:
        if holds(word):
            found.update(w for phrase, spoken in phrases if holds(phrase) for w in spoken)
    return found


@lru_cache(maxsize=1)
def _compiled_equivalents() -> tuple[tuple[Equivalent, ...], int]:
    """The equivalents table compiled once (each phrase with its words), and the longest run of
    words of its phrases. A run of whole words is found in a text exactly where the pattern
    `\\b<run>\\b` is found in the text's words joined by single spaces."""
    table = tuple(
        (_phrase(word), tuple((_phrase(p), tuple(p.split())) for p in phrases))
        for word, phrases in equivalents().items()
    )
    runs = [p for word, phrases in table for p in (word, *(q for q, _ in phrases))]
    longest = max((len(p) for p in runs if isinstance(p, tuple)), default=1)
    return table, longest


def _phrase(text: str) -> Phrase:
    if _RUN_OF_WORDS.fullmatch(text):
        return tuple(text.split())
    return re.compile(rf"\b{re.escape(text)}\b")


def asking_sentences(query: str) -> list[str]:
    """The questions of a message of several sentences ("Does the camera see at night? We've had
    parcels go missing"): each is also looked up alone, the scene around it dilutes its meaning.
    None for a message of one sentence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", query.strip()) if s.strip()]
    if len(sentences) < 2:
        return []
    return [s for s in sentences if s.endswith("?") and len(query_terms(s)) >= 2]


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk (headings dropped), for their vectors."""
    body = re.sub(r"^#.*$", "", text, flags=re.MULTILINE)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", body)) if s.strip()]
