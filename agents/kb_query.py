"""The knowledge-base query the offline model writes for a follow-up, as a real model would.

An elliptical follow-up leaves out what it is about: "y los sábados?" after "a qué hora
atienden?" asks for the support hours on Saturdays, not the showroom's; "and is there any offer
on it?" after "how much is Premium?" asks about Premium. The query is the message itself first,
then the words it leaves out:

- the previous message's topic words (its content words that do not ask for a kind of answer:
  "premium", "cámara", "puerta") when the message continues it: it opens with "and" / "y" ("¿y
  se ve de noche?"), or is a few words that name nothing of their own besides how they ask or
  that point back ("it", "lo");
- also the previous message's way of asking ("a qué hora atienden") when the message has no
  subject of its own and asks for the same kind of answer, or for none ("y los sábados?").

A follow-up that asks the same of something else ("and for students?" after "how much is
Premium?") borrows only the way of asking, not the thing asked about before.

A follow-up that changes topic keeps its own words: "and where can I find you?" after "what time
are you open" asks for a place, not a time, and the message before has no topic words to lend.
"""

from __future__ import annotations

import re

from tools.answer_kinds import asked_kinds, kind_words
from tools.knowledge import STOPWORDS
from tools.text import fold

FOLLOW_UP_WORDS = 6  # a message this short may continue the one before
_WORD = re.compile(r"[a-z0-9]+")
_OPENER = re.compile(r"^\W*(?:and|y|e|what about|how about|also|tambien|and if|y si)\b")
# "and for X?", "y para X?", "what about X?": the same question asked of X instead.
# Not when a question word follows ("y en cuánto tiempo me lo regresan" asks how long, of the
# same thing).
_SUBSTITUTE = re.compile(
    r"^\W*(?:(?:and|y|e) (?:for|para|with|con|on|in|en|about|de)|what about|how about|y que tal)\b"
    r"(?!\W+(?:cuant|que\b|como\b|donde\b|cuando\b|how\b|what\b|which\b|when\b|where\b))"
)
# Words that point back at something said before ("is there an offer on it?", "¿lo tienen?").
_POINTERS = frozenset("it its that them those this one ones lo la los las eso esa ese ello".split())
# Words that set the tone of a message, not its topic ("oh I see", "estoy viendo").
_FILLER = frozenset(
    "oh ah well see ok okay then so hmm hey whats "
    "estoy viendo mira bueno pues entonces vale".split()
)


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _topic(words: list[str], asking: frozenset[str]) -> list[str]:
    return [
        w
        for w in words
        if w not in STOPWORDS and w not in asking and w not in _FILLER and len(w) > 2
    ]


def opens_follow_up(message: str) -> bool:
    """The message opens as a follow-up: "and", "y", "what about", "also"..."""
    return bool(_OPENER.match(fold(message)))


def follow_up_query(message: str, before: str) -> str:
    """The query for `message` given the customer's message `before` it (see the module
    docstring); the message itself when it stands on its own."""
    words = _words(message)
    if not before.strip() or not words:
        return message
    opens = opens_follow_up(message)
    asking = kind_words()
    own = _topic(words, asking)
    pointing = bool(set(words) & _POINTERS)
    if not opens and (len(words) > FOLLOW_UP_WORDS or (own and not pointing)):
        return message  # a message of its own ("what products do you sell then?")
    previous = _words(before)
    lent = [w for w in _topic(previous, asking) if w not in words]
    if own and _SUBSTITUTE.match(fold(message)):
        # "and for students?" after "how much is premium?" asks the same of something else:
        # the way of asking is lent, the thing it was asked of is not.
        lent = [w for w in previous if w in asking and w not in words]
    kinds, kinds_before = asked_kinds(message), asked_kinds(before)
    if not own and (not kinds or kinds <= kinds_before):
        # Nothing of its own but how it asks: the same question, narrowed ("y los sábados?").
        lent = [w for w in previous if w not in STOPWORDS and w not in words and len(w) > 1]
    lent = list(dict.fromkeys(lent))
    return f"{message} {' '.join(lent)}".strip() if lent else message
