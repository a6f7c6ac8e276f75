"""Which language a WhatsApp message is in (English or Spanish), without a network call."""

from __future__ import annotations

import re
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


def detect_language(text: str, default: Language = "en") -> Language:
    """`es` or `en` by marker words and Spanish punctuation; `default` when there is no signal."""
    lowered = _spelled_out(text.lower())
    words = _WORD.findall(lowered)
    spanish = sum(word in _SPANISH for word in words) + 2 * len(re.findall(r"[¿¡ñ]", lowered))
    spanish += sum(1 for word in words if re.search(r"[áéíóú]", word))
    english = sum(word in _ENGLISH for word in re.findall(r"[a-z']+", lowered))
    spanish += sum(word in _SPANISH_OPENERS for word in words)
    english += sum(word in _ENGLISH_OPENERS for word in words)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    if spanish:
        return default  # as many marker words of each: the conversation's language
    margin = dictionary_margin(text)
    if margin is not None and margin[1] >= DICTIONARY_MARGIN - (margin[0] == default):
        # Several words only one language has: the character model ("echo mini info" reads as
        # Spanish to it) is not asked. One word is too little: the Spanish list lacks many forms.
        return margin[0]
    if (guess := identified(text)) is not None:
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
    "Premium") are English words in Spanish messages too."""
    english, spanish = dictionary("en"), dictionary("es")
    words = [fold(w) for w in re.findall(r"[^\W\d_]{3,}", text) if not w[0].isupper()]
    votes_en = sum(w in english and w not in spanish for w in words)
    votes_es = sum(w in spanish and w not in english for w in words)
    if votes_en == votes_es:
        return None
    return ("en", votes_en - votes_es) if votes_en > votes_es else ("es", votes_es - votes_en)


# How many more words only the other language's dictionary holds before it overrides the
# conversation's language.
DICTIONARY_MARGIN = 3
# How sure the statistical model must be before it overrides the conversation's language.
IDENTIFIED_CONFIDENCE = 0.8


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


def identified(text: str) -> Language | None:
    """The language a character n-gram model reads in a message with no marker word ("venden
    enchufes inteligentes?"), when it is sure and there are words enough to judge by."""
    if sum(len(w) for w in _WORD.findall(text.lower())) < 8:
        return None  # "ok", "47", a name: nothing to judge by
    identifier = language_identifier()
    if identifier is None:
        return None
    language, confidence = identifier.classify(text)
    if confidence < IDENTIFIED_CONFIDENCE or language not in ("en", "es"):
        return None
    return "es" if language == "es" else "en"
