"""Which bound tool the offline model calls, and with which arguments.

A tool is chosen by the words of its name, description and examples (each word weighted by how
few tools use it) and by meaning (sentence embeddings). What the message asks for decides which
tools may be chosen (`Asked`): a question about how something works goes to the knowledge base; a
question about a change (a refund, a move) is answered from it too, since only a request makes a
change; a message that requests nothing may propose a change only when it names what the change
needs ("take the speaker to the garage"). Arguments come from the tool's schema (each value:
`agents.offline_values`): a value the message names, the destination after "to" / "a" (never the
room it comes from), the words naming a device (never the whole message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.offline_reading import asks_leave, without_markers
from agents.offline_text import WORD, closeness, content_terms, similarities, stem
from agents.offline_values import (
    destination,
    is_place,
    mentioned,
    parameter_value,
    place_names,
    plain_schema,
    room_phrase,
)
from tools.equivalents import tool_equivalents, with_document_words
from tools.escalation import ESCALATION_TOOL
from tools.handoff import asks_for_person
from tools.knowledge import STOPWORDS
from tools.phatic import read_message
from tools.spelling import Speller, shorthand
from tools.text import fold

KB_TOOL = "search_knowledge_base"
_CLITICS = ("melo", "mela", "selo", "sela", "los", "las", "les", "nos", "lo", "la", "le", "me")
MAX_DEVICE_WORDS = 5
# A device id as customers copy it from the app or an email ("dev_003", "dev-3").
_DEVICE_ID = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[a-z]+-\d+\b")
CHANGE_SHARE = 0.5  # a read scoring this share of a change's score answers a question about it
OWN_SHARE = 0.5  # a read of the account scoring this share of the minimum answers about one's own
FILLED_WEIGHT = 1.0  # a required value the message names counts as a shared word
_ONE = frozenset({"one", "ones", "uno", "una", "otro", "otra"})  # "the one in the office"
PREFIX = 5  # words sharing this many first letters may be forms of one word (refund, refunded)

__all__ = ["KB_TOOL", "Asked", "ToolBox", "destination", "mentioned", "unclitic"]


@dataclass(frozen=True)
class Asked:
    """What the message asks for: `writes`, a change may be proposed; `statement`, it requests
    nothing explicitly (a change only with its values named); `knowledge`, every question in it
    is about how something works (the knowledge base answers); `own`, it speaks of the customer's
    own account or things: a read of them answers before the knowledge base does."""

    writes: bool = True
    statement: bool = False
    knowledge: bool = False
    own: bool = False  # it speaks of the customer's own account or things ("my bill")


class ToolBox:
    """The bound tools (`bind_tools`'s descriptions), read for choice and arguments."""

    def __init__(self, tools: list[dict[str, Any]], min_score: float = 1.0) -> None:
        self.tools = tools
        self.min_score = min_score
        self.speller = Speller(
            [text for t in tools for text in (t["name"].replace("_", " "), *_texts(t)[1:])]
        )
        self.kinds = _kind_terms(tools)
        self.rooms = _room_names(tools)
        # The rooms' words: where a device is or goes, never which tool is meant ("the details of
        # the display in my bedroom" moves nothing); a room it goes to counts as a value the
        # message names (`ToolBox.filled`).
        self.places: set[str] = set().union(*(content_terms(n) for n in self.rooms))
        self.weights = _term_weights(tools, self.kinds | self.places)
        self.ids = _id_patterns(tools)

    def tool(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.tools if t["name"] == name), None)

    def choose(self, question: str, asked: Asked = Asked()) -> dict[str, Any] | None:
        """The best matching tool for `question`; None when nothing matches."""
        question = self.speller.correct(question)
        if not content_terms(question) or not self.tools:
            return None
        handoff = self.handoff(question)
        if handoff is not None:
            return handoff  # a request for a person, whatever words it is put in
        knowledge_base = self.tool(KB_TOOL)
        if asked.knowledge and knowledge_base is not None:
            return knowledge_base  # how something works, what to do: not an action
        ranked = self.ranked(question)
        reads = [item for item in ranked if not item[2].get("write")]
        if asked.own or self.names_id(question):
            ranked = _account_first(ranked, self.min_score)
        for score, _, candidate in ranked:
            if score < self.min_score:
                return None
            if not candidate.get("write"):
                return candidate
            # "what music do I have linked?": it says, then asks which; an option named in
            # asking whether one may have it ("can I play X?") is what is possible: not listed.
            if (
                not asked.writes
                and asked.own
                and self.asks_which(candidate, question)
                and not (self.names_values(candidate, question) and asks_leave(question))
            ):
                return candidate
            if not asked.writes:
                # A question about a change ("until when can I ask for a refund?") is answered
                # from the knowledge base, unless a read fits it nearly as well: only a request
                # makes a change.
                read = next((r for r in reads if r[2]["name"] != KB_TOOL), None)
                if read is not None and read[0] >= CHANGE_SHARE * score:
                    return read[2]
                return knowledge_base or (reads[0][2] if reads else None)
            if not asked.statement or (
                self.names_values(candidate, question) and not self.free_text_only(candidate)
            ):
                return candidate
            # A statement ("I was charged twice") proposes no change it names nothing of: the
            # next tool that fits reads what it is about (the invoice).
        return None

    def handoff(self, message: str) -> dict[str, Any] | None:
        """The escalation tool when `message` asks for a person (the only way it is chosen)."""
        handoff = self.tool(ESCALATION_TOOL)
        return handoff if handoff is not None and asks_for_person(message) else None

    def ranked(self, question: str) -> list[tuple[float, int, dict[str, Any]]]:
        """(score, -order, tool) of every tool but the handoff, best first."""
        scored = [
            (self.score(question, t), -order, t)
            for order, t in enumerate(self.tools)
            if t["name"] != ESCALATION_TOOL  # a handoff only on a request for a person
        ]
        # The knowledge base at only its floor loses a tie: a tool that the message's words or
        # values bring up to the floor ("bump the lobby to 60") fits better than no words at all.
        return sorted(
            scored,
            key=lambda item: (
                (item[0], item[2]["name"] != KB_TOOL or item[0] > self.min_score, item[1])
            ),
            reverse=True,
        )

    def score(self, question: str, candidate: dict[str, Any]) -> float:
        asked = self.terms(question)

        def shared(terms: set[str]) -> float:
            return sum(self.weights.get(term, 0.0) for term in asked & terms)

        name, description, *examples = _texts(candidate)
        meaning = similarities(question, [description, *examples])
        score = (
            1.5 * shared(content_terms(name))
            + shared(content_terms(description))
            + 1.5 * max((shared(content_terms(e)) for e in examples), default=0)
            + closeness(max(meaning, default=0.0))
        )
        if candidate["name"] == KB_TOOL:
            score = max(score, self.min_score)  # any real question may be in the KB
        return score + FILLED_WEIGHT * self.filled(candidate, question)

    def names_only_things(self, question: str) -> bool:
        """The message names a kind of device or a room and no word of any tool ("and the one
        in the office?", "y el termostato?"): it asks what the message before asked, of it."""
        terms = self.terms(question) - _ONE
        things = self.kinds | self.places
        return bool(terms & things) and not any(t in self.weights for t in terms - things)

    def names_id(self, question: str) -> bool:
        """The message names a record by an id of a known shape ("INV-1102")."""
        return any(pattern.search(question) for pattern, _ in self.ids)

    def filled(self, candidate: dict[str, Any], question: str) -> int:
        """How many required values of the tool the message names (a number, a room, a
        service): "a 30" says a volume, "al dormitorio" a room."""
        schema = candidate["parameters"]
        properties = schema.get("properties", {})
        return sum(
            parameter_value(name, plain_schema(properties.get(name, {})), question, strict=True)
            is not None
            for name in schema.get("required", [])
            if plain_schema(properties.get(name, {})).get("type") != "string"
            or plain_schema(properties.get(name, {})).get("enum")
        )

    def unclitic(self, word: str) -> str:
        return unclitic(word, self.weights)

    def terms(self, question: str) -> set[str]:
        """The message's content terms, each read as a tool word it is a form of ("refunded" ->
        "refund", "devolver" -> "devolucion": the same first letters, a different ending), with
        the words `equivalents.yaml` gives for the customer's ("visa": card)."""
        # A customer's word for what the tools call otherwise ("prendida": online) adds the tools'.
        worded = fold(with_document_words(question, tool_equivalents()))
        terms = content_terms(" ".join(self.unclitic(w) for w in WORD.findall(worded)))
        # An id of a known shape is read as what it names: "INV-1102" is an invoice.
        named = {term for pattern, word in self.ids if pattern.search(question) for term in word}
        return {self.form_of(term) for term in terms} | named

    def form_of(self, term: str) -> str:
        if term in self.weights or len(term) < PREFIX:
            return term
        shorter = [k for k in self.weights if len(k) >= 4 and term.startswith(k)]
        if shorter and len(term) - len(max(shorter, key=len)) <= 2:
            return max(shorter, key=len)  # "moved" -> "move"
        forms = [
            known
            for known in self.weights
            if len(known) >= PREFIX
            and known[:PREFIX] == term[:PREFIX]
            and len(_common(known, term)) >= min(len(known), len(term)) - 3
        ]
        return max(forms, key=lambda known: len(_common(known, term)), default=term)

    def asks_which(self, candidate: dict[str, Any], question: str) -> bool:
        """A change needing an option of a closed set, asked about (the caller knows it is a
        question about one's own): called without its options (`without_options`), the change
        proposes nothing, it says what the account has and asks which one ("what music services
        do I have?"; "do I have Deezer linked?" names one, and the list answers it too). Never a
        place: "is it in the bedroom?" asks where a thing is, a read says."""
        schema = candidate["parameters"]
        return any(
            plain_schema(schema.get("properties", {}).get(name, {})).get("enum")
            and not is_place(name)
            for name in schema.get("required", [])
        )

    @staticmethod
    def without_options(candidate: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
        """`arguments` without the closed-set options a change proposes (the service, connect or
        disconnect), places aside: a question about them gets the list and "which one?"."""
        properties = candidate["parameters"].get("properties", {})
        return {
            name: value
            for name, value in arguments.items()
            if is_place(name) or not plain_schema(properties.get(name, {})).get("enum")
        }

    @staticmethod
    def free_text_only(candidate: dict[str, Any]) -> bool:
        """Every value the change needs is free text (a refund's reason): a message can name
        none of them, so only a request proposes it."""
        schema = candidate["parameters"]
        properties = schema.get("properties", {})
        required = [plain_schema(properties.get(name, {})) for name in schema.get("required", [])]
        # A change needing no value at all is named whole by the message ("take it away").
        return bool(required) and all(
            spec.get("type", "string") == "string" and not spec.get("enum") for spec in required
        )

    def names_values(self, candidate: dict[str, Any], question: str) -> bool:
        """The message names every closed-set value the change needs (a room, a service)."""
        schema = candidate["parameters"]
        for name in schema.get("required", []):
            spec = plain_schema(schema.get("properties", {}).get(name, {}))
            if spec.get("enum") and parameter_value(name, spec, question, strict=True) is None:
                return False
        return True

    def arguments(
        self, candidate: dict[str, Any], question: str, before: str = "", unnamed: bool = False
    ) -> dict[str, Any] | None:
        """Arguments from the schema; None when a required number is missing (left out with
        `unnamed`: the change asks for it itself). Free text (a reason) is the customer's words,
        with their message `before` when this one continues it."""
        schema = candidate["parameters"]
        required = set(schema.get("required", []))
        arguments: dict[str, Any] = {}
        for name, spec in schema.get("properties", {}).items():
            spec = plain_schema(spec)
            value = parameter_value(name, spec, question)
            if name == "device" and value is None:
                value = self.device_words(candidate, question) or None
            if value is None and name in required:
                if spec.get("type") in ("integer", "number"):
                    if unnamed:
                        continue
                    return None
                if not spec.get("enum"):
                    value = f"{before} {question}".strip()  # the customer's own words
            if value is not None:
                arguments[name] = value
        return arguments

    def carried(self, candidate: dict[str, Any], focus: str, before: str) -> dict[str, Any] | None:
        """Arguments of a change asked for again for another thing ("the same for the bedroom
        display" after "set the kitchen one to 20"): each value `focus` names, else the one
        `before` named; None when a required number is in neither."""
        then = self.arguments(candidate, before) or {}
        schema = candidate["parameters"]
        properties = schema.get("properties", {})
        merged: dict[str, Any] = {}
        for name in properties:
            spec = plain_schema(properties[name])
            value = parameter_value(name, spec, focus, strict=True)
            if name == "device":
                value = self.device_words(candidate, focus) or None
            if value is None:
                value = then.get(name)
            if value is None and name in schema.get("required", []):
                if spec.get("type") in ("integer", "number"):
                    return None
                continue
            if value is not None:
                merged[name] = value
        return merged

    def device_words(self, candidate: dict[str, Any], question: str) -> str:
        """The words naming a device: the message without function words, numbers, the place it
        goes to and the tool's own words ("set", "volume"), keeping the words that parameters'
        descriptions and closed sets use ("speaker", "kitchen"); only those when a kind of device is
        among them. "" when none is left."""
        identifier = _DEVICE_ID.search(question.lower())
        if identifier:  # an id the customer typed ("dev_003") is the device, as written
            return identifier.group(0)
        keep = _parameter_terms(self.tools)
        own = set().union(*(content_terms(t) for t in _texts(candidate))) - keep
        folded = without_markers(read_message(question).request or question)
        going = destination(without_markers(question), [], strict=False)
        going = going or room_phrase(without_markers(question), self.rooms)
        if going and candidate.get("write"):  # a read's room says where the device is
            folded = folded.replace(going, " ")
        expand = shorthand()
        words: list[str] = []
        previous = ""  # the word just before, kept or not
        for word in WORD.findall(folded):
            word = expand.get(word, word)
            after_name = bool(words) and words[-1] == previous and stem(previous) in keep
            previous = word
            if word.isdigit() and len(word) <= 2 and after_name:
                words.append(word)  # "Speaker 1": a number right after a name is part of it
                continue
            if any(w in STOPWORDS for w in word.split()) or word.isdigit() or len(word) < 2:
                continue
            if self.form_of(stem(self.unclitic(word))) in own:
                continue
            words.append(word)
        naming = [w for w in words if stem(w) in keep or w.isdigit()]
        if any(stem(w) in self.kinds for w in naming):
            words = naming  # a kind is named: its words and the room's, no leftovers
        return " ".join(words[:MAX_DEVICE_WORDS])


def _account_first(ranked: list[Any], floor: float) -> list[Any]:
    """About the customer's own account ("do I owe anything?", "INV-1102"): a read of the account
    scoring `OWN_SHARE` of the minimum answers before the knowledge base, when the knowledge
    base's score is only its floor. `ranked`: (score, order, tool), best first."""
    reads = (r for r in ranked if not r[2].get("write"))
    account = next((r for r in reads if r[2]["name"] not in (KB_TOOL, ESCALATION_TOOL)), None)
    if account is None or account[0] < OWN_SHARE * floor:
        return ranked
    lifted = (max(account[0], floor), *account[1:])
    kept = [
        lifted if r is account else r
        for r in ranked
        if not (r[2]["name"] == KB_TOOL and r[0] <= floor)
    ]
    return sorted(kept, key=lambda item: item[:2], reverse=True)


def _common(left: str, right: str) -> str:
    """The first letters two words share."""
    size = 0
    while size < min(len(left), len(right)) and left[size] == right[size]:
        size += 1
    return left[:size]


def unclitic(word: str, known: dict[str, float]) -> str:
    """A verb with a pronoun written onto it, read as the verb the tools know ("subele" ->
    "sube", "bajalo" -> "baja"); any other word as it is. `word` is folded."""
    if stem(word) in known:
        return word
    for clitic in _CLITICS:
        verb = word[: -len(clitic)]
        if word.endswith(clitic) and len(verb) >= 3 and stem(verb) in known:
            return verb
    return word


def _texts(tool: dict[str, Any]) -> list[str]:
    """Name, first line of the description, examples."""
    return [
        tool["name"].replace("_", " "),
        tool["description"].split("\n")[0],
        *tool["examples"],
    ]


def _parameter_terms(tools: list[dict[str, Any]]) -> set[str]:
    """Words that name things, not actions: the device parameter's description (kinds of
    device), the names listed in brackets in parameter descriptions (rooms), closed sets."""
    terms: set[str] = set()
    for tool in tools:
        for name, spec in tool["parameters"].get("properties", {}).items():
            spec = plain_schema(spec)
            described = str(spec.get("description", ""))
            if name != "device":
                described = " ".join(re.findall(r"\(([^)]*)\)", described))
            terms |= content_terms(described)
            for value in spec.get("enum") or []:
                terms |= content_terms(str(value).replace("_", " "))
    return terms


def _term_weights(tools: list[dict[str, Any]], kinds: set[str]) -> dict[str, float]:
    """Each word of the tools' texts, weighted by how few tools use it: a word every device
    tool has ("speaker") says nothing about which one is meant; "volume" does. A kind of device
    or a room (`kinds`) names which device, never which tool: "is the camera working" makes
    "camera" no word of checking a status."""
    users: dict[str, int] = {}
    for tool in tools:
        for term in set().union(*(content_terms(t) for t in _texts(tool))) - kinds:
            users[term] = users.get(term, 0) + 1
    return {term: 1.0 / count for term, count in users.items()}


def _room_names(tools: list[dict[str, Any]]) -> list[str]:
    """Every name the place parameters give a room ("bedroom", "dormitorio", "cuarto")."""
    return [
        name
        for tool in tools
        for key, spec in tool["parameters"].get("properties", {}).items()
        if is_place(key)
        for name in place_names(plain_schema(spec))
    ]


def _kind_terms(tools: list[dict[str, Any]]) -> set[str]:
    """The kinds of device the device parameter lists in brackets ("its kind (camera, display)")."""
    terms: set[str] = set()
    for tool in tools:
        spec = plain_schema(tool["parameters"].get("properties", {}).get("device", {}))
        for listed in re.findall(r"\(([^)]*)\)", str(spec.get("description", ""))):
            terms |= content_terms(listed)
    return terms


def _id_patterns(tools: list[dict[str, Any]]) -> list[tuple[re.Pattern[str], set[str]]]:
    """Each string parameter with a pattern (an id of a known shape), with the words of its name:
    `invoice` "^INV-[0-9]{4,8}$"."""
    found = []
    for tool in tools:
        for name, spec in tool["parameters"].get("properties", {}).items():
            pattern = plain_schema(spec).get("pattern")
            if pattern:
                # A literal hyphen (not in a [0-9] range) may be a space: "INV 1102" too.
                shape = re.sub(r"-(?![^\[]*\])", r"[-\\s]?", str(pattern).strip("^$"))
                compiled = re.compile(rf"\b{shape}\b", re.IGNORECASE)
                found.append((compiled, content_terms(name.replace("_", " "))))
    return found
