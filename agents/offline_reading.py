"""What a customer's message asks the offline model for: a question, a request, or knowledge.

A request for an action ("move my speaker", "quiero un reembolso") may lead to a change; a
question never does. A question about how something works, what to do or how long it takes
("is there a reset procedure?", "¿cuánto tarda un reembolso?") is for the knowledge base, not for
an action on the account. The word lists are language, in `offline_reading.yaml`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

from tools.spelling import shorthand
from tools.text import fold

_CLAUSE = re.compile(r"(?<=[.?!;])\s+|[,\n]|(?=¿)|\s-\s|\b(?:but|pero)\b")
_LEAD = re.compile(r"^\W*(?:(?:and|so|but|or|then|also|ok|okay|y|pero|o|entonces|bueno|vale)\W+)*")
_QUESTION_OPENER = re.compile(
    r"^\W*(what|whats|how|when|where|which|who|why|is|are|does|do|did|was|were|"
    r"que|como|cuando|donde|cual|cuales|cuanto|cuanta|cuantos|quien|por que|hay|tienen|es|"
    r"tell me|show me|explain|dime|cuentame|explicame|muestrame)\b"
)
_REQUEST_MARKER = re.compile(
    r"\b(can you|could you|would you|will you|please|i want|i wanna|(?<!do )i need|i would like|"
    r"i'd like|i d like|id like|let's|lets|quiero|necesito|me gustaria|quisiera|puedes|podrias|"
    r"pueden|podrian|"
    r"por favor|haz|hazme)\b"
)
_ACTION_VERB = (
    r"(move|set|turn|connect|disconnect|link|"
    r"unlink|change|put|relocate|cancel|refund|update|add|remove|raise|lower|increase|decrease|"
    r"mute|open|request|make|switch|bump|mueve|mover|pon|poner|sube|subir|baja|bajar|conecta|"
    r"desconecta|cambia|lleva|vincula|desvincula|cancela|reembolsa|actualiza|abre|solicita|deja|"
    r"agrega|quita)"
)
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:hey|hi|hello|ok|okay|hola|oye|vale)\W+)*"
    + _ACTION_VERB
    + r"(?:lo|la|le|los|las|me|nos|melo|mela)?\b"
)
# An action verb a few words after "can I" ("can we link...", "can I have the charge refunded"),
# in any form ("refunded", "agregar", "moved").
_ACTION_NEAR = re.compile(r"^(?:\W*\w+){0,4}?\W*" + _ACTION_VERB + r"\w{0,3}\b")
# A target value ("to 30", "a 30", "en 40"): what a change is set to, in a message asking nothing.
_TARGET_VALUE = re.compile(r"\b(to|at|a|al|en)\s+\d{1,3}\b")
_ACTION_WORDS = re.compile(
    r"\b(give me|money back|refund me|devuelv\w*|devuelvan\w*|reembolsa\w*|regresa\w*)\b"
)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    """Kind -> one pattern of its phrases, at word boundaries."""
    data = yaml.safe_load((resources.files("agents") / "offline_reading.yaml").read_text("utf-8"))
    return {
        kind: re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in phrases) + r")\b")
        for kind, phrases in data.items()
    }


def _folded(text: str) -> str:
    """Folded, with chat shorthand spelled out ("can u" -> "can you")."""
    words = shorthand()
    return re.sub(r"[a-z]+", lambda m: words.get(m.group(0), m.group(0)), fold(text))


def clauses(text: str) -> list[str]:
    """The folded clauses of a message, each with its own question mark."""
    parts = (_LEAD.sub("", part).strip() for part in _CLAUSE.split(_folded(text)) if part)
    return [part for part in parts if re.search(r"\w", part)]


def _is_question(clause: str) -> bool:
    patterns = _patterns()
    return bool(
        _QUESTION_OPENER.match(clause)
        or clause.endswith("?")
        or clause.startswith("¿")
        or patterns["learning"].search(clause)
        or patterns["tag_question"].search(clause)
        or patterns["knowledge"].search(clause)
    )


def asks_question(text: str) -> bool:
    """Some clause of the message asks something (a question word first, a question mark, "I'd
    like to know", "what do I do")."""
    return any(_is_question(clause) for clause in clauses(text))


def asks_for_knowledge(text: str) -> bool:
    """Every question the message asks is about how something works, what to do, how long it
    takes or how far it reaches ("my display froze, what do I do?"), none about the account."""
    questions = [clause for clause in clauses(text) if _is_question(clause)]
    knowledge = _patterns()["knowledge"]
    return bool(questions) and all(knowledge.search(clause) for clause in questions)


def is_request(text: str) -> bool:
    """A request for an action, as opposed to a question about something.

    "What is your refund policy?" asks; "I want a refund" and "Can you move my speaker?" request;
    "I'd like to know how refunds work" asks.
    """
    folded = _patterns()["learning"].sub(" ", _folded(text)).strip()
    if _REQUEST_MARKER.search(folded) or asks_permission(folded):
        return True
    if any(_IMPERATIVE.match(clause) for clause in clauses(folded)):
        return True  # an order in any clause ("it's in the kitchen now, move it there")
    # Any clause asking ("me lo devuelven todo? o pierdo algo") makes a question of the message.
    asking = _QUESTION_OPENER.match(folded) or any(_is_question(c) for c in clauses(folded))
    return not asking and bool(_ACTION_WORDS.search(folded) or _TARGET_VALUE.search(folded))


def asks_permission(text: str) -> bool:
    """Some clause asks leave for an action on the customer's things ("can we link another
    service?", "can I have the charge refunded?", "¿puedo agregar otro?"): a request, not a
    question about how things work."""
    permission = _patterns()["permission"]
    for clause in clauses(text):
        found = permission.search(clause)
        if found and _ACTION_NEAR.match(clause[found.end() :]):
            return True
    return False


def repeats(text: str) -> bool:
    """The message asks for the change just asked for again, for another thing ("the same for
    the kitchen one", "haz lo mismo con la bocina"): read with the message before it."""
    return bool(_patterns()["same_again"].search(_folded(text)))


def asks_leave(text: str) -> bool:
    """Some clause asks whether one may ("can I play X on it?", "¿puedo tener Y?"), whatever
    follows: what is possible, not what one has."""
    permission = _patterns()["permission"]
    return any(permission.search(clause) for clause in clauses(text))


def about_own(text: str) -> bool:
    """The message speaks of the customer's own account or things ("my bill", "do I owe",
    "¿cuánto debo?"): a question about them is read from the account."""
    return bool(_patterns()["own"].search(_folded(text)))


def without_markers(text: str) -> str:
    """Folded text without the phrases that make it a request or a question ("I'd like",
    "can you", "quisiera saber"): what is left names things."""
    patterns = _patterns()
    folded = patterns["learning"].sub(" ", _folded(text))
    return _REQUEST_MARKER.sub(" ", folded)
