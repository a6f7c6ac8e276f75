"""Which language a WhatsApp message is in (English or Spanish), without a network call."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from functools import lru_cache
from typing import Any, Literal

from tools.text import fold, unstretched

Language = Literal["en", "es"]

_WORD = re.compile(r"[a-záéíóúñü]+")
_SPANISH = frozenset(
    "el la los las un una de del que y en por para con mi mis tu su es está esta estoy son "
    "hola gracias quiero necesito tengo tiene puedo cómo como cuánto cuanto cuál cual dónde donde "
    "qué cuándo cuando mí altavoz volumen factura pago plan precio precios cuesta hay buenos "
    "buenas días dias tardes noches sí no pero porque favor ayuda ayúdame mueve pon baja sube "
    "dispositivo dispositivos cobraron reembolso horario ubicados persona humano agente adiós "
    "vence debo muéstrame tienen ofrecen promoción descuento al me se lo le "
    # General function words and chat words (no business words): short messages need them.
    "nos vemos muy ustedes usted les esto eso aquí ahí allí ya también tambien quién quien "
    "algo nada todo todos mucho poco bien mal bueno sea ser estar soy eres somos hay había "
    "tengo tienes tenemos quiero quieres puedes podemos hacer hago hace sé sabe saber ver "
    "cuándo dónde cuál qué cómo ahora hoy mañana ayer después antes siempre nunca otra otro "
    "mío tuyo suyo nuestro vale dale listo claro perdón disculpa porfa amable ayudar "
    "encuentro quedan abren atienden cierran llamo escribo hablar gusta chau chao buen "
    "finde".split()
)
# Word endings that only one of the two languages uses (a tie-breaker for unknown words).
_SPANISH_ENDINGS = re.compile(r"(ción|ciones|mente|amos|emos|imos|ando|iendo|ado|ido|ería)$")
_ENGLISH_ENDINGS = re.compile(r"(ing|tion|ed|ly|ght|th|ck|ful|ness|w)$")
_ENGLISH = frozenset(
    "the an is are was my your i you me we it this that what how when where which who why "
    "do does can could would please thanks thank hello hi hey to of and for with on in my "
    "speaker volume bill invoice payment plan price cost want need have has move set check "
    "device devices status show tell much many there yes no good morning bye "
    "be been am were will won't don't can't it's i'm you're guys u ur thx pls please get got "
    "just also too some any all our us they them their here now today tomorrow still again "
    "about from at by up down out over if so but or not never always know think see find "
    "where's what's how's who's when's there's let's sorry really very great thank's".split()
)


def marker_words() -> frozenset[str]:
    """Every word that marks a language here (folded): real words of English or Spanish, so typo
    repair never reads one as another word ("estoy" is no typo of "estos")."""
    return frozenset(fold(w) for w in _SPANISH | _ENGLISH)


# Greetings and thanks say which language the customer speaks to us in: they count twice
# ("Hola, premium plan price per month?" is a Spanish speaker using the plan's English name).
_SPANISH_OPENERS = frozenset("hola gracias buenas buenos saludos".split())
_ENGLISH_OPENERS = frozenset("hi hello hey thanks thank".split())


def _spelled_out(text: str) -> str:
    """Chat shorthand spelled out ("q tal" -> "que tal") and a stretched last letter cut
    ("holaaa" -> "hola"), so marker words are found."""
    from tools.spelling import shorthand

    short = shorthand()
    markers = _SPANISH | _ENGLISH

    def word(match: re.Match[str]) -> str:
        found = match.group()
        cut = unstretched(found, markers)
        return cut if cut != found else short.get(found, found)

    return re.sub(r"[a-záéíóúñü]+", word, text)


# The business's own names ("hub display", "premium"), one pattern: set once its texts are read.
_names: re.Pattern[str] | None = None


def use_names(names: Iterable[str]) -> None:
    """Read the business's names (products, plans, brands, folded: "home speaker", "premium")
    as words of neither language: a Spanish speaker writes "el hub display no prende"."""
    global _names
    ordered = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in ordered)
    _names = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if ordered else None


def without_names(text: str) -> str:
    """`text` without the business's names (`use_names`), whatever their case."""
    return _names.sub(" ", text) if _names is not None else text


def detect_language(text: str, default: Language = "en") -> Language:
    """`es` or `en` by marker words and Spanish punctuation; `default` when there is no signal."""
    named, text = text, without_names(text)
    lowered = _spelled_out(text.lower())
    words = _WORD.findall(lowered)
    # A word both lists hold ("no", "plan", "me") says nothing: "termostato no enfria" is as
    # unmarked as "termostato enfria", not a tie for the conversation's language.
    spanish = sum(w in _SPANISH and w not in _ENGLISH for w in words)
    spanish += 2 * len(re.findall(r"[¿¡ñ]", lowered))
    spanish += sum(1 for word in words if re.search(r"[áéíóú]", word))
    english = sum(w in _ENGLISH and w not in _SPANISH for w in re.findall(r"[a-z']+", lowered))
    spanish += sum(word in _SPANISH_OPENERS for word in words)
    english += sum(word in _ENGLISH_OPENERS for word in words)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    if spanish:
        return default  # as many marker words of each: the conversation's language
    return _unmarked(text, named, words, default)


def _unmarked(text: str, named: str, words: list[str], default: Language) -> Language:
    """The language of a message with no marker word: the dictionaries, then the character
    model, then word endings; `default` when none of them says."""
    margin = dictionary_margin(text)
    # A Spanish-only word that is the whole message says it all ("saldo", "ofertas 🔥"); an
    # English-only one may be a word Spanish speakers use as is ("premium", "promos", "info").
    alone = len(re.findall(r"[^\W\d_]{3,}", text)) == 1
    needed = 1 if alone and margin is not None and margin[0] == "es" else DICTIONARY_MARGIN
    if margin is not None and margin[1] >= needed - (margin[0] == default):
        # Several words only one language has: the character model ("echo mini info" reads as
        # Spanish to it) is not asked. One word is too little (the Spanish list lacks many
        # forms), unless it is the whole message.
        return margin[0]
    reading = identification(text)
    if reading is None:
        # Too little left without the names: the model reads them too ("echo mini luz roja"),
        # but never against the dictionaries (it reads "echo mini info" as Spanish).
        reading = identification(named)
        if reading is not None and margin is not None and margin[0] != reading[0]:
            reading = None
    if reading is not None:
        guess, confidence = reading
        if confidence >= IDENTIFIED_CONFIDENCE:
            return guess
        if margin is not None and margin[0] == guess and confidence >= AGREEING_CONFIDENCE:
            # Words only one dictionary holds and the character model lean the same way: two
            # weak signals that agree ("tarifa anual", "sigue sin andar").
            return guess
    unknown = [w for w in words if w not in _SPANISH and w not in _ENGLISH and len(w) > 3]
    spanish = sum(bool(_SPANISH_ENDINGS.search(w)) for w in unknown)
    english = sum(bool(_ENGLISH_ENDINGS.search(w)) for w in unknown)
    if spanish != english:
        return "es" if spanish > english else "en"
    return default


@lru_cache(maxsize=2)
def dictionary(language: Language) -> frozenset[str]:
    """The words of a language's dictionary (folded, letters only), from the word-frequency lists
    `pyspellchecker` ships; empty without the package."""
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return frozenset()
    checker: Any = SpellChecker(language=language, distance=1)
    words = (
        str(w) if str(w).isascii() else fold(str(w)) for w in checker.word_frequency.dictionary
    )
    return frozenset(w for w in words if w.isalpha())


def dictionary_margin(text: str) -> tuple[Language, int] | None:
    """The language whose dictionary alone holds more of the message's words, and by how many
    ("echo mini info": three English-only words; "chau buen finde": one Spanish-only word), or
    None on a tie. Capitalised words are left out: product and plan names ("Home Speaker",
    "Premium") are English words in Spanish messages too. A word neither dictionary holds
    counts for Spanish when it is a form of a Spanish verb (`spanish_verb_form`): the Spanish
    list has infinitives, not most conjugations ("prende", "enfria", "congelado")."""
    english, spanish = dictionary("en"), dictionary("es")
    words = [fold(w) for w in re.findall(r"[^\W\d_]{3,}", text) if not w[0].isupper()]
    votes_en = sum(w in english and w not in spanish for w in words)
    votes_es = sum(w in spanish and w not in english for w in words)
    votes_es += sum(
        w not in english
        and w not in spanish
        and (spanish_verb_form(w, spanish, english) or spanish_plural(w, spanish, english))
        for w in words
    )
    if votes_en == votes_es:
        return None
    return ("en", votes_en - votes_es) if votes_en > votes_es else ("es", votes_es - votes_en)


def spanish_plural(word: str, spanish: Container[str], english: Container[str]) -> bool:
    """`word` (folded, in neither dictionary) is the plural of a word only the Spanish one
    holds ("ofertas" of "oferta", "facturas"): the Spanish list has few plurals."""
    return any(
        word.endswith(ending)
        and word[: -len(ending)] in spanish
        and word[: -len(ending)] not in english
        for ending in ("s", "es")
    )


# A conjugated or participle ending, and the infinitive endings it may come from.
_VERB_FORMS = re.compile(
    r"^(?P<stem>\w{3,}?)(?P<ending>ado|ada|ados|adas|ido|ida|idos|idas|an|en|a|e|o)$"
)
_INFINITIVES: dict[str, tuple[str, ...]] = {
    "ado": ("ar",),
    "ada": ("ar",),
    "ados": ("ar",),
    "adas": ("ar",),
    "ido": ("er", "ir"),
    "ida": ("er", "ir"),
    "idos": ("er", "ir"),
    "idas": ("er", "ir"),
    "an": ("ar",),
    "en": ("er", "ir"),
    "a": ("ar",),
    "e": ("er", "ir"),
    "o": ("ar", "er", "ir"),
}


def spanish_verb_form(word: str, spanish: Container[str], english: Container[str]) -> bool:
    """`word` (folded, in neither dictionary) is a form of a verb the Spanish dictionary holds
    and the English one does not: a present ("enfria" of "enfriar", "prende" of "prender"), a
    past ("llego" of "llegar") or a participle ("congelado" of "congelar")."""
    match = _VERB_FORMS.match(word)
    if match is None:
        return False
    stem, ending = match.group("stem"), match.group("ending")
    return any(
        stem + infinitive in spanish and stem + infinitive not in english
        for infinitive in _INFINITIVES[ending]
    )


# How many more words only the other language's dictionary holds before it overrides the
# conversation's language.
DICTIONARY_MARGIN = 3
# How sure the statistical model must be before it overrides the conversation's language.
IDENTIFIED_CONFIDENCE = 0.8
# How sure it must be when the dictionaries lean its way too.
AGREEING_CONFIDENCE = 0.55


@lru_cache(maxsize=1)
def language_identifier() -> Any:
    """langid.py's model restricted to English and Spanish (about 1 s to load, once a process);
    None without the package."""
    try:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    except ImportError:
        return None
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(["en", "es"])
    return identifier


def identification(text: str) -> tuple[Language, float] | None:
    """What a character n-gram model reads in a message, and how sure it is (0.5 to 1), when
    there are letters enough to judge by; None for "ok", "47", a name, or without the model."""
    if sum(len(w) for w in _WORD.findall(text.lower())) < 8:
        return None  # "ok", "47", a name: nothing to judge by
    identifier = language_identifier()
    if identifier is None:
        return None
    language, confidence = identifier.classify(text)
    if language not in ("en", "es"):
        return None
    return ("es" if language == "es" else "en"), float(confidence)


def identified(text: str) -> Language | None:
    """The language a character n-gram model reads in a message with no marker word ("venden
    enchufes inteligentes?"), when it is sure and there are words enough to judge by."""
    reading = identification(text)
    if reading is None or reading[1] < IDENTIFIED_CONFIDENCE:
        return None
    return reading[0]


@lru_cache(maxsize=1)
def _calling_codes() -> dict[str, Language]:
    from importlib import resources

    import yaml

    data = yaml.safe_load((resources.files("tools") / "calling_codes.yaml").read_text("utf-8"))
    return {str(k): ("es" if v == "es" else "en") for k, v in (data or {}).items()}


def number_language(wa_id: str) -> Language | None:
    """The language a WhatsApp number's country calling code suggests ("5491122334455" -> es,
    "447700900123" -> en; the longest listed code wins), None for a code not listed."""
    digits = "".join(c for c in wa_id if c.isdigit())
    codes = _calling_codes()
    for length in (4, 3, 2, 1):
        if digits[:length] in codes:
            return codes[digits[:length]]
    return None
