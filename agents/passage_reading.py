"""Reading retrieved knowledge-base passages: their sentences (in the customer's language when
there are some), the names they use (`Premium`, `Echo Mini`: capitalised words inside their
sentences) and the clauses of a question of several."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tools.knowledge import STOPWORDS
from tools.language import detect_language
from tools.text import fold

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"[a-z0-9]+")
DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[a-z]")
# Capitalised words (a run of them is one name); the first word of a sentence is not a name alone.
CAPITALISED = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")
_CLAUSE = re.compile(
    r"(?<=[?;:])\s+(?:and also|and|also|y ademas|y tambien|y|ademas)?\s*"
    r"|\s+(?:and also|and|also|y ademas|y tambien|y|ademas)\s+(?=(?:what|how|when|where|which|"
    r"who|would|will|can|could|does|do|is|are|que|como|cuando|donde|cual|cuanto|hay|tienen|"
    r"funciona|sirve)\b)"
)

# A clause opening with an auxiliary asks something ("would it work on basic").
_AUXILIARY = re.compile(r"^\W*(?:would|will|can|could|should|does|do|is|are|funciona|sirve)\b")

Terms = Callable[[str], set[str]]


def opens_with_auxiliary(text: str) -> bool:
    """The text opens with an auxiliary verb: a yes/no question ("do you accept cash")."""
    return _AUXILIARY.match(fold(text)) is not None


@dataclass(frozen=True)
class Sentence:
    text: str
    source: str
    block: int  # order of its passage in the tool output (the knowledge base's ranking)
    heading: str


def names_in(text: str) -> set[tuple[str, ...]]:
    """Names a text uses: runs of capitalised words, folded ("The Echo Mini smart speaker" ->
    ("echo", "mini")); a single capitalised word opening a sentence is not one."""
    names: set[tuple[str, ...]] = set()
    body = re.sub(r"\[source: [^\]]*\]|^#.*$", "\n", text, flags=re.MULTILINE)
    lines = (line.strip() for line in re.split(r"\n\s*\n", body))
    for sentence in (s for line in lines for s in SENTENCE_END.split(re.sub(r"\s+", " ", line))):
        for match in CAPITALISED.finditer(sentence):
            words = tuple(WORD.findall(fold(match.group(0))))
            if match.start() == 0 and (len(words) == 1 or words[0] in STOPWORDS):
                words = words[1:]  # the sentence's first word is capitalised anyway
            if words and not any(w.isdigit() for w in words):
                names.add(words)
    return names


def mentions(words: list[str], name: tuple[str, ...]) -> bool:
    """The words use the name, in the singular or the plural ("Saturdays" names "Saturday")."""
    size, wanted = len(name), _singular(name)
    return any(_singular(words[i : i + size]) == wanted for i in range(len(words) - size + 1))


def _singular(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def clauses(question: str, terms: Terms, asks: Callable[[str], bool]) -> list[str]:
    """The parts of a question that each ask something with words of their own (at most three);
    the whole question when fewer than two do ("...more than 3 gadgets? we got like 6" is one)."""
    parts = [p.strip() for p in _CLAUSE.split(question) if p and p.strip()]
    asking = [p for p in parts if terms(p) and (asks(p) or _AUXILIARY.match(fold(p)))]
    if any(p.endswith("?") for p in asking):
        # Questions marked as such: a sentence ending in a full stop or a colon sets the scene.
        asking = [p for p in asking if not p.endswith((".", ":"))]
        if len(asking) == 1:
            return asking  # the one question, without the scene around it
    return asking[:3] if len(asking) > 1 else [question]


def passage_sentences(text: str, language: str) -> list[Sentence]:
    """The sentences of the tool output's passages, each with its source and its passage's place
    in the ranking; headings apart."""
    pieces = re.split(r"\[source: ([^\]]+)\]", text)
    blocks = [(i // 2, pieces[i], pieces[i + 1]) for i in range(0, len(pieces) - 1, 2)]
    # The reply is in the customer's language, and this model does not translate: a passage in
    # another language (a translation the knowledge base also returned, or a document only the
    # other language has) is never quoted; with none in theirs, the answer is "I don't know".
    own = [b for b in blocks if detect_language(b[1], default="en") == language]
    found = []
    for index, body, source in own if language in ("en", "es") else blocks:
        lines = body.splitlines()
        heading = " ".join(line for line in lines if line.startswith("#"))
        prose = re.sub(r"\s+", " ", " ".join(line for line in lines if not line.startswith("#")))
        found += [
            Sentence(s, source.strip(), index, heading)
            for s in SENTENCE_END.split(prose.strip())
            if s
        ]
    return found


def codes(named: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The names that are codes (letters and digits in one word: "HOGAR30", "INV-1101" read as
    one name): each names one thing only, so a sentence holding it is about it."""
    return {n for n in named if len(n) == 1 and DIGIT.search(n[0]) and _LETTER.search(n[0])}
