"""Whether a product or company name, not the question, pulled a message to an agent.

"how long is the warranty on the Home Speaker?" resembles sales because sales texts name the Home
Speaker; what it asks about (a warranty) is in none of the sales texts. The names are the
capitalised runs of the agents' own texts and KB documents ("Home Speaker", "Hogar Smart Home"),
matched in a message whatever its case when they have several words, capitalised when one. A
message naming one, whose other content words (its head topic) the top agent's texts never use,
goes to the fallback agent: no agent is known to handle what it asks. A message naming no known
name is left alone (most messages have some word no agent text contains).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from graph.follow_ups import TopicWords
from graph.ownership import has_possessive
from tools.answer_kinds import AMOUNT
from tools.text import fold

# A run of capitalised words: a capital then lower-case letters or digits ("Home Speaker", "Hub
# Display 2"); an all-capitals word ("CEO", "AM") is a word, not a name.
_TITLE = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñü0-9][\wáéíóúñü]*"
_CAPITALISED_RUN = re.compile(rf"(?<![\w]){_TITLE}(?:\s+{_TITLE})*(?![\w])")
_SENTENCE_START = re.compile(r"(?:^|[.!?¿¡:\n]\s*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def capitalised_names(text: str) -> list[str]:
    """Capitalised runs of a text, folded; a run opening a sentence loses its first word
    ("Disconnect Deezer" names Deezer, "Venden aspiradoras" names nothing)."""
    names: list[str] = []
    for match in _CAPITALISED_RUN.finditer(text):
        words = match.group(0).split()
        if _SENTENCE_START.search(text[: match.start()]):
            words = words[1:]
        if words:
            names.append(fold(" ".join(words)))
    return names


class HeadTopic:
    """The names the agents' texts use, and each agent's content terms (`TopicWords`)."""

    def __init__(
        self,
        texts: Iterable[tuple[str, str]],
        topics: TopicWords,
        terms: Callable[[str], set[str]],
    ) -> None:
        self._topics = topics
        self._terms = terms
        texts = list(texts)
        self.names = frozenset(n for _, text in texts for n in capitalised_names(text) if terms(n))
        self._phrases = [n for n in self.names if " " in n]
        # Names a sentence gives a price: things the business sells ("The Echo Mini costs $49";
        # not what a plan costing so much includes: "... $29.99 ... with Spotify").
        self.sold = frozenset(
            n
            for _, text in texts
            for sentence in _SENTENCE_END.split(text)
            if (amount := AMOUNT.search(sentence)) is not None
            for n in capitalised_names(sentence[: amount.start()])
            if n in self.names
        )

    def named(self, text: str) -> list[str]:
        """The known names a message contains."""
        folded = fold(text)
        found = [n for n in self._phrases if re.search(rf"\b{re.escape(n)}\b", folded)]
        found += [n for n in capitalised_names(text) if n in self.names and n not in found]
        return found

    def pulled_by_name(self, text: str, agent_id: str) -> bool:
        """The message names a known name, and has content words, none of which the agent's
        texts use: the name, not the question, made it resemble the agent. A message naming
        something as the customer's own ("my hub display is frozen") asks about what they have,
        which the agent's texts may word otherwise: it is left alone."""
        names = self.named(text)
        if not names or has_possessive(text):
            return False
        # Every capitalised run is a name ("Best Buy", "Hogar" before "Smart Home"), not a topic.
        rest = fold(_CAPITALISED_RUN.sub(" ", text))
        for name in sorted(names, key=len, reverse=True):
            rest = re.sub(rf"\b{re.escape(name)}\b", " ", rest)
        head = self._terms(rest)
        return bool(head) and head.isdisjoint(self._topics.terms_of(agent_id))

    def as_sold_thing(self, text: str, thing: str) -> str | None:
        """`text` with the names of things sold it contains replaced by `thing` ("the product"),
        or None when it names none: what it asks of a product, whichever product it is."""
        sold = [n for n in self.named(text) if n in self.sold]
        if not sold:
            return None
        folded = fold(text)
        for name in sorted(sold, key=len, reverse=True):
            pattern = r"\s+".join(re.escape(w) for w in name.split())
            folded = re.sub(rf"(?<!\w){pattern}(?!\w)", thing, folded)
        return folded
