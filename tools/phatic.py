"""What a message asks, without the greeting, apology or thanks around it.

"hi there sorry to bother you, I was wondering what the cheapest plan is" routes on "what the
cheapest plan is"; "Hola, cancelé..." on "cancelé...". A message of phatic phrases only
("thanks so much!", "hola 👋") is small talk. The phrases live in `phatic.yaml`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from tools.small_talk import agrees, asks_something, closest_kind, complains, small_talk_kind
from tools.spelling import shorthand
from tools.text import unstretched

# Clause breaks; not the point or comma of a number ("la devolución de los 9.99", "9,99 al mes").
_SPLIT = re.compile(r"(?<=[!?;:\n¡¿])|(?<=\D\.)|(?<=\.)(?!\d)|(?<!\d),|,(?!\d)|\s-\s")
_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
MAX_SEGMENTS = 4
# A message with a greeting, thanks or goodbye that nothing answered is small talk when what is
# left is this short, names nothing the caller knows and reads this close to small talk as a
# whole ("hey, you around?"; not "hi! do you sell gift cards?", far from every such sentence).
LEFTOVER_WORDS = 4
LEFTOVER_CLOSE = 0.5
# A statement nothing answered, with no thanks or goodbye phrase of the lists, that is this close
# to a thanks sentence as a whole ("que crack, me solucionaste la vida", "brilliant,
# ta very much"): praise and thanks in other words. Questions about things no document holds
# score below 0.4 against the small-talk sentences.
UNANSWERED_CLOSE = 0.45
UNANSWERED_WORDS = 8
_SPOKEN = ("thanks", "goodbye", "greeting")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Words that say nothing of their own after a phatic phrase: whom it is said to ("hola a todos",
# "thanks guys") or how much ("thanks so much, really"). Not a kind of small talk.
ADDRESS = "address"


@lru_cache(maxsize=1)
def _phrase_lists() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Kind -> phrases as word tuples, longest first, each also with its words spelled out as a
    message's are ("por la info" is read as "por la information")."""
    data = _phatic_data()
    short = shorthand()

    def spelled(phrase: str) -> tuple[str, ...]:
        words = [short.get(w, w) for w in phrase.split()]
        return tuple(word for w in words for word in w.split())

    return {
        kind: tuple(
            sorted(
                {form for p in phrases for form in (tuple(p.split()), spelled(p))},
                key=len,
                reverse=True,
            )
        )
        for kind, phrases in data.items()
        if kind != PREDICATE_AFTER
    }


# Words after which a phatic word is what the clause says of its subject, not a closing
# ("¿cuánto vale?", "¿está bien así?", "is it cool"): `phatic.yaml`, not a kind of phrase.
PREDICATE_AFTER = "predicate_after"


@lru_cache(maxsize=1)
def _phatic_data() -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(
        (resources.files("tools") / "phatic.yaml").read_text("utf-8")
    )
    return data


@lru_cache(maxsize=1)
def _predicate_after() -> frozenset[str]:
    return frozenset(_phatic_data().get(PREDICATE_AFTER, ()))


@lru_cache(maxsize=1)
def phatic_phrases() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Kind -> phrases as word tuples, longest first."""
    return {kind: phrases for kind, phrases in _phrase_lists().items() if kind != ADDRESS}


@dataclass(frozen=True)
class Reading:
    """`request`: the message without phatic phrases ("" when none is left); `segments`: its
    clauses with content, longest first (at most MAX_SEGMENTS); `small_talk`: the kind of the
    phatic phrases when the message is nothing else (greeting, thanks, goodbye, politeness);
    `phatic`: the kinds of the phatic phrases dropped, in order."""

    request: str
    segments: tuple[str, ...]
    small_talk: str | None
    phatic: tuple[str, ...] = ()


def _strip(words: list[str], kinds: list[str]) -> list[str]:
    """Drop phatic phrases at the start and end of a clause; remember their kinds (`kinds`: those
    of the message so far). Once one is dropped, whom it is said to goes too ("buenos dias a todo
    el equipo", "thanks all", "hola, a todos")."""
    while words:
        # After a greeting, thanks or goodbye, whom it is said to goes too.
        phrases = _phrase_lists() if set(kinds) - {"politeness"} else phatic_phrases()
        # The longest phrase of any kind at either end ("que tengas buen dia" is a goodbye,
        # not the greeting "buen dia" after two words).
        found: tuple[int, bool, str] | None = None
        for kind, options in phrases.items():
            for phrase in options:
                size = len(phrase)
                if found is not None and size <= found[0]:
                    break  # longest first: nothing longer left in this kind
                if tuple(words[:size]) == phrase:
                    found = (size, True, kind)
                elif (
                    len(words) > size
                    and tuple(words[-size:]) == phrase
                    and words[-size - 1] not in _predicate_after()
                ):
                    found = (size, False, kind)
                else:
                    continue
                break
        found = found or _spoken_to_at_end(words)
        if found is None:
            break
        size, at_start, kind = found
        words = words[size:] if at_start else words[:-size]
        if kind != ADDRESS:
            kinds.append(kind)
    return words


def _thanks_within(words: list[str]) -> bool:
    """A thanks phrase anywhere in the message's words, not only at an end ("bueno pues
    muchísimas gracias, ya quedó todo funcionando")."""
    return any(
        tuple(words[i : i + len(phrase)]) == phrase
        for phrase in _phrase_lists()["thanks"]
        for i in range(len(words) - len(phrase) + 1)
    )


def _spoken_to_at_end(words: list[str]) -> tuple[int, bool, str] | None:
    """A thanks, greeting or goodbye with whom or what it is for after it, closing the clause
    ("ya se conectó, muchas gracias por la paciencia", "ya anda todo, gracias genia"): its size
    and kind, or None."""
    by_last = _by_last_word()
    for address in by_last.get((ADDRESS, words[-1]), ()) if words else ():
        if len(words) <= len(address) or tuple(words[-len(address) :]) != address:
            continue
        before = words[: -len(address)]
        for kind in _SPOKEN:
            for phrase in by_last.get((kind, before[-1]), ()):
                if len(before) >= len(phrase) and tuple(before[-len(phrase) :]) == phrase:
                    return len(phrase) + len(address), False, kind
    return None


@lru_cache(maxsize=1)
def _by_last_word() -> dict[tuple[str, str], tuple[tuple[str, ...], ...]]:
    """(kind, last word) -> the phrases of that kind ending in it, longest first."""
    index: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for kind, phrases in _phrase_lists().items():
        for phrase in phrases:
            index.setdefault((kind, phrase[-1]), []).append(phrase)
    return {key: tuple(found) for key, found in index.items()}


@lru_cache(maxsize=1)
def _phatic_words() -> frozenset[str]:
    return frozenset(w for phrases in phatic_phrases().values() for p in phrases for w in p)


def _tokens(clause: str) -> list[tuple[str, str]]:
    """(folded, original) word pairs of a clause; emojis and punctuation are not words."""
    short = shorthand()
    pairs: list[tuple[str, str]] = []
    for token in _TOKEN.findall(clause):
        for part in _WORD.findall(fold(token))[:1]:
            part = unstretched(part, _phatic_words())  # "graciassss", "diaa"
            spelled = short.get(part, part)  # "q tal" is "que tal"; one word for one word only
            pairs.append((part if " " in spelled else spelled, token))
    return pairs


@lru_cache(maxsize=4096)
def read_message(text: str) -> Reading:
    """The message's reading (pure, so cached: the router, the handoff check and the model read
    the same message several times in one turn)."""
    kinds: list[str] = []
    segments: list[str] = []
    clauses: list[str] = []  # the whole clause of each segment, phatic words included
    asks: list[str] = []  # "?" for a clause that ends as a question
    words: list[str] = []  # the whole message's words, folded
    for clause in _SPLIT.split(text):
        if not clause:
            continue
        pairs = _tokens(clause)
        words += [folded for folded, _ in pairs]
        kept = _strip([folded for folded, _ in pairs], kinds)
        if kept:
            start = next(
                i for i in range(len(pairs)) if [f for f, _ in pairs[i : i + len(kept)]] == kept
            )
            segments.append(" ".join(original for _, original in pairs[start : start + len(kept)]))
            clauses.append(" ".join(original for _, original in pairs))
            asks.append("?" if clause.rstrip().endswith("?") else "")
    if not segments:
        return Reading("", (), _phatic_kind(kinds), tuple(kinds))
    # Read by meaning with their question marks: "anyone around?" is a greeting, as a sentence.
    pairs_read = [(c + q, s + q) for c, s, q in zip(clauses, segments, asks, strict=True)]
    by_meaning = small_talk_kind(
        pairs_read,
        after_thanks=bool({"thanks", "goodbye"} & set(kinds)) or _thanks_within(words),
        question="?" in text,
        whole=text,
    )
    if by_meaning is not None:
        return Reading("", (), by_meaning, tuple(kinds))
    ranked = sorted(segments, key=len, reverse=True)[:MAX_SEGMENTS]
    return Reading(" ".join(segments), tuple(ranked), None, tuple(kinds))


def leftover_small_talk(text: str, names_topic: Callable[[str], bool]) -> str | None:
    """The kind of the greeting, thanks or goodbye of a message nothing answered, when the rest
    is small talk too: at most LEFTOVER_WORDS words, no number, nothing `names_topic` knows (the
    caller's words: its tools', its knowledge base's), and the whole close to a small-talk
    sentence. None for a real question after a greeting, answered or not."""
    reading = read_message(text)
    spoken = [kind for kind in _SPOKEN if kind in reading.phatic]
    if not spoken:
        return _closing_in_other_words(text, names_topic)
    rest = reading.request
    if spoken[0] == "thanks" and _thanks_with_a_statement(text, rest):
        return "thanks"
    if len(rest.split()) > LEFTOVER_WORDS or re.search(r"\d", rest):
        return None
    if names_topic(rest) or complains(rest):
        return None
    near = closest_kind(text)
    return spoken[0] if near is not None and near[1] >= LEFTOVER_CLOSE else None


def _thanks_with_a_statement(text: str, rest: str) -> bool:
    """A thanks with a statement nothing answered, however long or whatever it names ("muchas
    gracias mijo, ya mi nieta me explicó todo", "thank you, that puts my mind at rest"): no
    question, no number, no problem reported, nothing asked or requested."""
    if "?" in text or re.search(r"\d", rest):
        return False
    return not complains(rest) and not asks_something(rest)


def _closing_in_other_words(text: str, names_topic: Callable[[str], bool]) -> str | None:
    """Thanks or praise in words no list holds, in a message nothing answered: a short
    statement (no question mark, no number, no word the caller's tools or documents know, no
    complaint) close to a thanks sentence. Not a goodbye: "meh" and "wow" are as close to one."""
    if "?" in text or re.search(r"\d", text) or len(text.split()) > UNANSWERED_WORDS:
        return None
    if complains(text) or agrees(text):
        return None
    if names_topic(text):
        return None
    near = closest_kind(text)
    if near is None or near[0] != "thanks" or near[1] < UNANSWERED_CLOSE:
        return None
    return near[0]


def _phatic_kind(kinds: list[str]) -> str:
    """The small-talk kind of a message of phatic phrases only."""
    order = ("thanks", "goodbye", "greeting", "politeness")
    return next((k for k in order if k in kinds), "greeting" if not kinds else kinds[0])


# A question about the assistant itself ("is this a bot?", "¿eres una persona?"): who is asking
# is talking *to* us, so the answer is about us, not a handoff. Folded text, after the phatic
# phrases are dropped.
_ABOUT_ASSISTANT = re.compile(
    r"^(?:(?:mmm+|hmm+|jaja\w*|haha\w*|lol|oye|ok|pero|but|so|y|and|entonces|o sea)\s+)*"
    r"(are you|are u|r u|r you|u a|you are|u are|youre|you re|is this|"
    r"am i (talking|chatting|speaking|writing)|ustedes son|son ustedes|"
    r"who am i|what are you|(tu |vos )?eres|(vos )?sos|usted es|es usted|es esto|"
    r"estoy (hablando|chateando|escribiendo)|hablo con|con quien hablo|que eres|"
    r"me (estas|esta|estan) (contestando|respondiendo|atendiendo|escribiendo)|"
    r"(esto )?(me|lo|le|nos) (contesta|responde|atiende)|"
    r"(is|are) (this|these|those|you|u) (reply|replies|answer|answers|message|messages))\b"
    r".*\b(bots?|robots?|ai|ia|human|humans|humanos?|humanas?|person|personas?|machine|"
    r"maquina|automatic|automated|automatico|automatica|automatizado|automatizada|chatbot|"
    r"computer|computadora|"
    r"assistant|asistente|contestador|programa)\b"
)
# "esto es un bot?", "is it a bot?": only with a word that says bot or person ("esto es
# automático el cobro?" asks about a payment).
_ABOUT_THIS = re.compile(
    r"^(?:(?:mmm+|hmm+|jaja\w*|haha\w*|lol|oye|ok|pero|but|so|y|and)\s+)*"
    r"(esto es|es un|is it|is that|it s)\b.*\b(bot|robot|ai|ia|chatbot|machine|maquina|"
    r"contestador|human|humano|humana|real person|persona real|persona de verdad)\b"
)
# "esto es automático?", "is this automated?" as the whole clause (not "esto es automático el
# cobro?", about a payment).
_THIS_AUTOMATIC = re.compile(
    r"^(?:(?:mmm+|hmm+|jaja\w*|haha\w*|lol|oye|ok|pero|but|so|y|and)\s+)*"
    r"(esto es|es esto|is this|this is|is it|it s)\s+(?:(?:un|una|a|an|todo|all)\s+)?"
    r"(automatico|automatica|automatizado|automatizada|automated|automatic|auto)"
    r"(\s+(cierto|verdad|no|right|yes|eh|yeah|si))?$"
)
_CLAUSE_BREAK = re.compile(r"[,;.!?¿¡:\n]+")


def asks_about_assistant(text: str) -> bool:
    """The message asks whether it is talking to a bot or a person (not for a person), or
    something else about the assistant itself ("what's your name?", by meaning)."""
    reading = read_message(text)
    if reading.small_talk == "assistant":
        return True
    if not reading.request:
        return False
    # The request as a whole ("hola eres un bot"), and each clause of the message ("jaja que
    # rapido, sos un bot?"): the patterns skip fillers, so no clause is read again for them.
    texts = [fold(reading.request), *(fold(c) for c in _CLAUSE_BREAK.split(text))]
    patterns = (_ABOUT_ASSISTANT, _ABOUT_THIS, _THIS_AUTOMATIC)
    return any(p.search(t.strip()) for p in patterns for t in texts)
