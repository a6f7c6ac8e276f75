"""Which language a WhatsApp message is in (English or Spanish), without a network call."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "es"]

_WORD = re.compile(r"[a-záéíóúñü]+")
_SPANISH = frozenset(
    "el la los las un una de del que y en por para con mi mis tu su es está esta estoy son "
    "hola gracias quiero necesito tengo tiene puedo cómo como cuánto cuanto cuál cual dónde donde "
    "qué cuándo cuando mí altavoz volumen factura pago plan precio precios cuesta hay buenos "
    "buenas días dias tardes noches sí no pero porque favor ayuda ayúdame mueve pon baja sube "
    "dispositivo dispositivos cobraron reembolso horario ubicados persona humano agente adiós "
    "vence debo muéstrame tienen ofrecen promoción descuento al me se lo le".split()
)
_ENGLISH = frozenset(
    "the a an is are was my your i you me we it this that what how when where which who why "
    "do does can could would please thanks thank hello hi hey to of and for with on in my "
    "speaker volume bill invoice payment plan price cost want need have has move set check "
    "device devices status show tell much many there yes no ok okay good morning bye".split()
)


def detect_language(text: str, default: Language = "en") -> Language:
    """`es` or `en` by marker words and Spanish punctuation; `default` when there is no signal."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    spanish = sum(word in _SPANISH for word in words) + 2 * len(re.findall(r"[¿¡ñ]", lowered))
    spanish += sum(1 for word in words if re.search(r"[áéíóú]", word))
    english = sum(word in _ENGLISH for word in words)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    return default
