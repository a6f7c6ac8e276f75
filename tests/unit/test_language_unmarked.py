"""Short messages with no marker word of either language, from a customer we know nothing about:
the dictionaries, Spanish verb forms, the character model and the business's names decide."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.language import (
    Language,
    detect_language,
    dictionary,
    spanish_verb_form,
    use_names,
    without_names,
)

# Written for these tests (WhatsApp-style, several countries and registers), no eval input.
_PROBES = Path(__file__).parent / "data" / "language_unmarked.jsonl"
# The demo catalogue's names, as the router reads them off the agents' texts.
_NAMES = ("hub display", "home speaker", "echo mini", "premium", "basic", "enterprise", "spotify")


def _probes() -> list[tuple[str, Language]]:
    rows = [json.loads(line) for line in _PROBES.read_text("utf-8").splitlines() if line]
    return [(str(r["text"]), "es" if r["language"] == "es" else "en") for r in rows]


@pytest.fixture
def names() -> Iterator[None]:
    use_names(_NAMES)
    yield
    use_names(())


def test_the_probe_set_has_both_languages_and_short_unmarked_messages() -> None:
    probes = _probes()
    assert sum(lang == "es" for _, lang in probes) >= 60
    assert sum(lang == "en" for _, lang in probes) >= 60
    assert all(len(text.split()) <= 8 for text, _ in probes)


def test_a_word_both_marker_lists_hold_is_no_tie() -> None:
    # "no" is English and Spanish: the rest of the message decides, not the default.
    assert detect_language("termostato no enfria") == "es"
    assert detect_language("calefaccion no prende") == "es"
    assert detect_language("no sound echo mini", default="es") == "en"
    assert detect_language("ok", default="es") == "es"  # still no signal at all


def test_a_conjugated_spanish_verb_counts_for_spanish() -> None:
    english, spanish = dictionary("en"), dictionary("es")
    for word in ("enfria", "prende", "conecta", "congelado", "llego", "trae"):
        assert spanish_verb_form(word, spanish, english), word
    for word in ("wifi", "alexa", "laggy", "spotify"):
        assert not spanish_verb_form(word, spanish, english), word


def test_a_spanish_word_alone_is_spanish_and_plurals_count() -> None:
    # A whole message of one word only the Spanish list holds (or the plural of one).
    for text in ("saldo", "ofertas 🔥🔥", "facturas?"):
        assert detect_language(text, default="en") == "es", text
    # An English-only word alone may be one Spanish speakers use as is: the default stays.
    for text in ("premium", "promos", "planes"):
        assert detect_language(text, default="es") == "es", text
        assert detect_language(text, default="en") == "en", text


def test_dictionaries_and_the_character_model_agreeing_decide() -> None:
    assert detect_language("tarifa anual") == "es"
    assert detect_language("garantia termostato") == "es"
    assert detect_language("sigue sin andar") == "es"
    assert detect_language("thermostat price?", default="es") == "en"


@pytest.mark.usefixtures("names")
def test_the_business_names_belong_to_neither_language() -> None:
    assert without_names("el Hub  Display no prende").split() == ["el", "no", "prende"]
    assert detect_language("home speaker muy bajito") == "es"
    assert detect_language("hub display pide actualizar") == "es"
    assert detect_language("echo mini luz roja") == "es"
    assert detect_language("basic trae camara?") == "es"
    # Names and one English word: the character model alone (it reads "echo" as Spanish) does
    # not override the dictionary.
    assert detect_language("echo mini info", default="es") == "en"
    assert detect_language("premium plan price", default="es") == "en"
    assert detect_language("Premium", default="es") == "es"


@pytest.mark.usefixtures("names")
def test_the_probe_set_is_read_right_for_an_unknown_customer() -> None:
    probes = _probes()
    for default, share in (("en", 0.94), ("es", 0.97)):
        for language in ("en", "es"):
            texts = [text for text, lang in probes if lang == language]
            wrong = [t for t in texts if detect_language(t, default=default) != language]
            assert len(wrong) <= (1 - share) * len(texts), (default, language, wrong)


def test_a_number_without_a_record_gets_its_calling_codes_language() -> None:
    from tools.language import number_language

    assert number_language("5491122334455") == "es"  # Argentina
    assert number_language("+34612345678") == "es"
    assert number_language("18095551234") == "es"  # Dominican Republic, inside +1
    assert number_language("447700900123") == "en"
    assert number_language("15550001") == "en"
    assert number_language("19123456789") == "en"  # the evals' unknown numbers: 19...
    assert number_language("33612345678") is None  # not listed: the default stays
