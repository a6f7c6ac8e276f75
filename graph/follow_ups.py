"""Messages that continue the conversation with the active agent rather than start a new one.

- `is_follow_up`: a short reply that only makes sense in the conversation ("yes", "the second one",
  "and for premium?", "y para estudiantes?").
- `opens_continuation`: a message opening with "and" / "y" / "what about" carries on the previous
  turn's topic ("¿Y se ve de noche?" after a question about a camera), so the active agent's prior
  is larger for it.
- `refers_back`: a short message pointing at something said before ("how much is that one a
  month?", "¿y cuánto sale eso?"): the router reads it with the names the last reply used.
- `TopicWords.covers`: an elliptical follow-up whose words the active agent's own texts use ("and
  the thermostat?" after a device-status question, when the device agent's texts name thermostats)
  asks the active agent the same question about another thing: it stays, however much another
  agent's texts use the word too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

from tools.text import fold

_WORD = re.compile(r"[a-z0-9]+")

FOLLOW_UP_WORDS = frozenset(
    "yes yeah yep ok okay sure please no nope thanks right correct exactly that this one first "
    "second third last other another and what about for also too then it them same more less "
    "si sí vale claro dale bueno listo perfecto eso ese esa este esta uno primero segundo "
    "tercero ultimo último otro otra y que tal para tambien también entonces lo la mismo mas "
    "más menos".split()
)
_FOLLOW_UP_OPENERS = frozenset({"and", "y", "what", "que", "the", "el", "la", "also"})
# Openers that carry the previous turn's topic on (not "also", "by the way": they add a new one).
CONTINUATION_OPENERS = (("and",), ("y",), ("what", "about"), ("how", "about"), ("que", "tal"))


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def is_follow_up(text: str) -> bool:
    """Short replies that only make sense in the current conversation."""
    words = _words(text)
    if not words or len(words) > 5:
        return False
    unknown = [w for w in words if w not in FOLLOW_UP_WORDS]
    starts_like_follow_up = words[0] in _FOLLOW_UP_OPENERS
    return len(unknown) == 0 or (starts_like_follow_up and len(unknown) <= 2)


# Words that may stand beside a number that answers the agent's question ("40", "al 30 porfa",
# "20 percent please"): the level, the count or the option asked for.
_NUMBER_COMPANIONS = frozenset(
    "percent por ciento al a en to at on please pls porfa plis the el la nivel level volume "
    "volumen de of ok vale si yes".split()
)
MAX_NUMBER_WORDS = 4


def answers_with_a_number(text: str) -> bool:
    """A number and at most a few words around it ("10", "al 30 porfa"): in a conversation, the
    answer to what the active agent asked (a level, a count), whatever it resembles alone."""
    words = _words(text)
    if not words or len(words) > MAX_NUMBER_WORDS or not any(w.isdigit() for w in words):
        return False
    return all(w.isdigit() or w in _NUMBER_COMPANIONS for w in words)


# Words pointing at something already said; not "la"/"lo" ("la factura", "lo quiero"), too common.
REFERENCE_WORDS = frozenset(
    "it that this those these them ese esa eso esos esas aquel aquella aquello".split()
)
MAX_REFERRING_WORDS = 8  # a longer message says what it is about itself
# A noun left out because it was said before: "the middle one", "which ones", "el del medio",
# "la de la cocina", "el más chico", "la otra".
_ELLIPSIS = re.compile(
    r"\b(?:the|which|this|that|other)\s+(?:[a-z]+\s+)?ones?\b"
    r"|\b(?:el|la|los|las)\s+(?:de|del|mas|menos|otro|otra|otros|otras)\b"
)


def refers_back(text: str) -> bool:
    """A short message with a word that points at something said before, or a noun left out
    ("the cheaper one", "el del medio")."""
    words = _words(text)
    if not 0 < len(words) <= MAX_REFERRING_WORDS:
        return False
    return not REFERENCE_WORDS.isdisjoint(words) or bool(_ELLIPSIS.search(" ".join(words)))


def opens_continuation(text: str) -> bool:
    """The message (without its phatic opening) starts with "and", "y", "what about"..."""
    words = tuple(_words(text))
    return any(words[: len(opener)] == opener for opener in CONTINUATION_OPENERS)


class TopicWords:
    """The content terms each agent's texts use, to tell whether a follow-up's words are the
    active agent's. `terms` maps a text to its content terms (stemmed, function words left out)."""

    def __init__(self, texts: Iterable[tuple[str, str]], terms: Callable[[str], set[str]]) -> None:
        self._terms = terms
        self._by_agent: dict[str, set[str]] = {}
        for agent_id, text in texts:
            self._by_agent.setdefault(agent_id, set()).update(terms(text))

    def terms_of(self, agent_id: str) -> AbstractSet[str]:
        """Every content term the agent's texts use."""
        return self._by_agent.get(agent_id, set())

    def covers(self, agent_id: str, text: str) -> bool:
        """Every content term of the follow-up (beyond follow-up words) is one the agent uses."""
        content = self._terms(" ".join(w for w in _words(text) if w not in FOLLOW_UP_WORDS))
        return bool(content) and content <= self._by_agent.get(agent_id, set())
