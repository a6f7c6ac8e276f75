"""Which value a message names for one parameter of a tool's schema: a number (the one after
"to" / "a" first), an option of a closed set (or a word its description gives for it), the place a
thing goes to (never the room it comes from), an id of a known shape."""

from __future__ import annotations

import re
from typing import Any

from tools.knowledge import STOPWORDS
from tools.text import fold

_NUMBER = re.compile(r"\b(\d{1,3})\b")
_ID_TOKEN = re.compile(r"[^\W_]+_\w+")  # "dev_003": an id, its digits are no value
# The value a change goes to: the number after "to" / "a" wins over a device's own number
# ("set Speaker 1 to 20", "pon el altavoz 2 al 40").
_TARGET_NUMBER = re.compile(r"\b(?:to|at|a|al|hasta)\s+(\d{1,3})\b")
_ORIGIN = r"(?:from|out of|instead of|de|del|desde|en vez de|en lugar de)"
_ARTICLE = r"(?:the\s+|my\s+|our\s+|el\s+|la\s+|mi\s+|los\s+|las\s+)?"
# Where a thing goes: "to the bedroom", "al dormitorio", "a la oficina"; "in" / "en" only in a
# request ("put it in the bedroom"): "the one in the kitchen" says where it is.
_TO = r"(?:to|into|onto|al|a la|a el|a mi|hacia)"
_IN = r"(?:in|en)"
# "for" / "para" / "pa" / "pal" name where a thing goes only before a room's name ("mandalo pal
# dormitorio", "la bocina para la oficina"), never before anything else ("para el plan").
_FOR = r"(?:pal|pa|para)"
_PLACE = r"([a-z ]{3,30}?)(?=[.?!,;]|$| please| por favor| pls| porfa| and | y )"
_NOT_A_PLACE = frozenset(STOPWORDS) | {"you", "it", "me", "us", "them", "bug", "bother", "ask"}


def parameter_value(name: str, spec: dict[str, Any], question: str, strict: bool = False) -> Any:
    """The value of one parameter the message names; None when it names none."""
    folded = fold(question)
    kind = spec.get("type", "string")
    if is_place(name):
        return destination(folded, spec.get("enum") or [], strict, _synonyms(spec))
    if spec.get("enum"):
        named = mentioned(folded, spec["enum"], _synonyms(spec))
        return named or (None if strict else spec.get("default"))
    if kind in ("integer", "number"):
        text = fold(_ID_TOKEN.sub(" ", question))
        number = _TARGET_NUMBER.search(text) or _NUMBER.search(text)
        if number:
            return int(number.group(1))
        said = mentioned(text, [], _number_words(spec))  # "mute" for 0, as described
        said = said if said is not None else _said_in_any_form(text, _number_words(spec))
        return int(said) if said is not None else None
    if kind != "string" or name == "device":
        return None
    if spec.get("pattern"):  # an id of a known shape: only when the message has one
        pattern = re.compile(str(spec["pattern"]).strip("^$"), re.IGNORECASE)
        found = pattern.search(question)
        return found.group(0).upper() if found else None
    return None


def is_place(name: str) -> bool:
    """The parameter is a place a thing goes to (`new_location`, `destination`, `room`)."""
    return any(word in name for word in ("location", "destination", "room"))


def place_names(spec: dict[str, Any]) -> list[str]:
    """Every name of a place parameter's options: the values and the words its description
    gives for each ("bedroom (dormitorio, cuarto)")."""
    named = [str(value).replace("_", " ") for value in spec.get("enum") or []]
    return named + [word for words in _synonyms(spec).values() for word in words]


def mentioned(folded: str, options: list[Any], synonyms: dict[str, list[str]] | None = None) -> Any:
    """The option the text names, as a whole word; the longest first ("disconnect" is not
    "connect"); then by a word the parameter's description gives for it ("unlink": disconnect),
    also with an ending ("quitame": quita)."""
    found = []
    for option in options:
        spoken = fold(str(option)).replace("_", " ")
        match = re.search(rf"\b{re.escape(spoken)}\b", folded)
        if match:
            found.append((match.start(), -len(spoken), option))
    if found:
        return min(found, key=lambda item: item[:2])[2]  # the first named ("add X, not Y")
    for option, words in (synonyms or {}).items():
        for word in words:
            ending = r"\w*" if len(word) >= 4 else ""
            if re.search(rf"\b{re.escape(word)}{ending}\b", folded):
                return option
    return None


def _synonyms(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Words for a closed set's options, from its description: "connect (link, add)"."""
    described = fold(str(spec.get("description", "")))
    found: dict[str, list[str]] = {}
    for option in spec.get("enum") or []:
        match = re.search(rf"\b{re.escape(fold(str(option)))} \(([^)]*)\)", described)
        if match:
            found[str(option)] = [w.strip() for w in match.group(1).split(",") if w.strip()]
    return found


def _said_in_any_form(folded: str, words: dict[str, list[str]]) -> str | None:
    """The number a described word stands for, in another form of the word: "silencio" or
    "silenciala" for "silencia" (the word without its last vowel, at least six letters left)."""
    for number, names in words.items():
        for name in names:
            root = re.sub(r"[aeiou]$", "", name)
            if len(root) >= 6 and re.search(rf"\b{re.escape(root)}\w*", folded):
                return number
    return None


def _number_words(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Words for a number, from its description: "0 (mute, silence) to 100"."""
    described = fold(str(spec.get("description", "")))
    return {
        match.group(1): [w.strip() for w in match.group(2).split(",") if w.strip()]
        for match in re.finditer(r"\b(\d{1,3}) \(([^)]*)\)", described)
    }


def destination(
    folded: str, rooms: list[Any], strict: bool, names: dict[str, list[str]] | None = None
) -> str | None:
    """Where a thing goes: the room after "to" / "al" / "a la" (or "in" / "en" unless `strict`),
    never the one it comes from ("from the kitchen to the bedroom" -> bedroom). A room of the
    closed set (or a name the description gives it) first, else a short phrase."""
    going = re.sub(rf"\b{_ORIGIN}\s+{_ARTICLE}[a-z]+(?:\s(?:room|de \w+))?", " ", folded)
    prepositions = [_TO] if strict else [_TO, _IN]
    found = _after(prepositions, going)
    names = names or {}
    rooms_named = [n for r in rooms for n in [str(r).replace("_", " "), *names.get(str(r), [])]]
    for_room = [p for p in _after([_FOR], going) if _opens_with_room(p, rooms_named)]
    for place in [*found, *for_room]:
        named = mentioned(place, rooms, names) if rooms else None
        if named is not None:
            return str(named)
    for place in found:
        words = place.split()
        if 0 < len(words) <= 3 and not set(words) & _NOT_A_PLACE and place.isascii():
            return place
    named = mentioned(going, rooms, names) if rooms and not strict else None
    return str(named) if named is not None else None


def _after(prepositions: list[str], folded: str) -> list[str]:
    """The short phrases right after any of `prepositions` (and an article)."""
    return [
        match.group(1).strip()
        for preposition in prepositions
        for match in re.finditer(rf"\b{preposition}\s+{_ARTICLE}{_PLACE}", folded)
    ]


def room_phrase(folded: str, names: list[str]) -> str | None:
    """ "pa" / "para" and the words after it naming one of the rooms `names` (`place_names`), as
    written: where a thing goes, no words of the thing itself."""
    for match in re.finditer(rf"\b{_FOR}\s+{_ARTICLE}{_PLACE}", folded):
        if _opens_with_room(match.group(1), names):
            return match.group(0)
    return None


def _opens_with_room(phrase: str, names: list[str]) -> bool:
    """`phrase` starts with a room's name ("cuarto de una vez"; not "pantalla del cuarto")."""
    return any(re.match(rf"{re.escape(fold(name))}\b", phrase) for name in names)


def plain_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter's schema is its non-null option."""
    options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
    if options:
        return {**options[0], **{k: v for k, v in spec.items() if k != "anyOf"}}
    return spec
