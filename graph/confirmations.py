"""How a customer's next message answers a pending proposal (a change waiting for their yes).

A reply button carries the proposal it answers (`confirm:<proposal_id>:yes|no`); a typed yes or no
answers the proposal pending now. Anything else cancels the proposal and is answered as a new
message. A button of another proposal confirms nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from tools import fold, unstretched

YES = frozenset(
    "yes y yeah yep yup yea sure ok okay k confirm confirmed go ahead do it please do si sí "
    "claro vale dale confirmo de acuerdo hazlo hacelo adelante correcto perfecto absolutely "
    "definitely alright exacto obvio".split()
)
YES_PHRASES = (
    "go ahead",
    "do it",
    "de acuerdo",
    "yes please",
    "si por favor",
    "ok thanks",
    "sounds good",
    "de una",
)
# Words that may stand around a yes without changing it ("yep go for it", "si dale hacelo
# porfa", "sure, sounds good thanks"): a message of these and at least one word of `YES` is a yes.
YES_COMPANIONS = frozenset(
    "go for it thing that this then just sounds good great fine perfect please pls thanks "
    "thank you thx lets let's proceed right away now por favor gracias entonces nomas mas de "
    "una ya mismo eso asi metele mandale procede porfa with con".split()
)
NO = frozenset("no nope nah cancel stop cancela cancelar cancelalo dejalo".split())
NO_PHRASES = ("no thanks", "no gracias", "mejor no", "don't", "do not", "not now", "ahora no")
# Words that may stand around a no without changing it ("no mejor no, ya lo pensé", "nah never
# mind, I changed my mind", "no, déjalo así por ahora"): a message opening with a word of `NO`
# and made of these is a no.
NO_COMPANIONS = frozenset(
    "no mejor ya lo pense pensado pensandolo bien asi por ahora todavia aun luego despues gracias "
    "deja dejalo olvidalo olvida never mind changed my i i've ive thought about it actually wait "
    "not now later thanks thank you thx for leave as is maybe mejor otro dia keep it where the "
    "same way was that cancel alone please pls porfa como esta estaba igual donde la el dejala "
    "dejalos espera pera nomas nada".split()
)
# Words that may open a no ("actually no, leave it", "wait no", "mmm mejor no").
NO_OPENERS = frozenset(
    "actually wait hmm hm oh ah um uh mmm eh oops sorry perdon espera pera mejor".split()
)
MAX_ANSWER = 40  # characters of a typed yes or no
MAX_NO = 60  # ...of a no with its companions ("no wait, cancel that, keep it where it is")
_KNOWN = YES | YES_COMPANIONS | NO | NO_COMPANIONS | NO_OPENERS
_BUTTON = re.compile(r"^confirm:([0-9a-f]{6,40}):(yes|no)$")

Kind = Literal["yes", "no", "stale", "other"]


@dataclass(frozen=True)
class Answer:
    kind: Kind
    resume: dict[str, Any]


def typed_answer(text: str) -> Literal["yes", "no"] | None:
    """`yes` or `no` when the whole message is an affirmation or a refusal."""
    folded = re.sub(r"[^a-z' ]+", " ", fold(text)).strip()
    if not folded or len(folded) > MAX_NO:
        return None
    # A held last letter is the word it stretches ("siii", "yesss", "daleee").
    words = [unstretched(word, _KNOWN) for word in folded.split()]
    folded = " ".join(words)
    opened = next((i for i, w in enumerate(words) if w not in NO_OPENERS), len(words))
    said = words[opened:] or words
    if folded in NO_PHRASES or (said[0] in NO and len(said) <= 3):
        return "no"
    if said[0] in NO and all(w in NO or w in NO_COMPANIONS for w in said):
        return "no"
    if len(folded) > MAX_ANSWER:
        return None
    if folded in YES_PHRASES or all(word in YES for word in words):
        return "yes"
    if any(word in YES for word in words) and all(w in YES or w in YES_COMPANIONS for w in words):
        return "yes"
    return None


def answer_to(pending: dict[str, Any], text: str, reply_id: str) -> Answer:
    """What the customer's message means for the pending proposal `pending`."""
    proposal_id = str(pending.get("proposal_id", ""))
    button = _BUTTON.match(reply_id.strip()) if reply_id else None
    if button:
        if button.group(1) != proposal_id:
            return Answer("stale", {"proposal_id": button.group(1), "decision": "no"})
        kind: Kind = "yes" if button.group(2) == "yes" else "no"
        return Answer(kind, {"proposal_id": proposal_id, "decision": kind, "text": text})
    typed = typed_answer(text)
    if typed is not None:
        return Answer(typed, {"proposal_id": proposal_id, "decision": typed, "text": text})
    return Answer("other", {"proposal_id": proposal_id, "decision": "cancel", "text": text})


__all__ = ["Answer", "answer_to", "typed_answer"]
