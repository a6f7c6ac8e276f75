"""The knowledge-base query the offline model writes (`agents.kb_query`), the documents' words for
the customer's (`tools.equivalents`), kinds' exceptions and slack, and the questions of a message
of several sentences (`tools.knowledge.asking_sentences`). No Redis, no model."""

from __future__ import annotations

from agents.kb_query import follow_up_query
from tests.unit.kb_doubles import CannedBase
from tools.answer_kinds import asked_kinds, kind_slack, parse_kinds
from tools.equivalents import parse_equivalents, with_document_words
from tools.knowledge import Passage, asking_sentences


def test_an_elliptical_follow_up_borrows_what_it_leaves_out() -> None:
    # Nothing of its own but how it asks: the question before, narrowed.
    assert follow_up_query("and on sundays?", "what time does support answer") == (
        "and on sundays? time support answer"
    )
    # It points back: the topic before ("premium"), not how it asked ("how much").
    assert follow_up_query("and is there a discount on it?", "how much is Premium?") == (
        "and is there a discount on it? premium"
    )
    # Opens with "y": the topic before ("cámara", "jardín").
    query = follow_up_query("¿y funciona con lluvia?", "¿cuánto cuesta la cámara del jardín?")
    assert query.startswith("¿y funciona con lluvia?") and "camara" in query


def test_a_follow_up_that_changes_topic_keeps_its_own_words() -> None:
    # Asks a place after a time; the message before has no topic words to lend.
    assert follow_up_query("and where are you?", "what time are you open") == "and where are you?"
    # A message of its own words, no pointer, no opener.
    assert follow_up_query("What gadgets do you have then?", "Do you sell drones?") == (
        "What gadgets do you have then?"
    )
    assert follow_up_query("how much is Premium?", "") == "how much is Premium?"
    # "y en" before a question word asks anew of the same thing, not "and for X": the topic before
    # is lent, never its words of asking ("a la ... mes").
    query = follow_up_query("y en cuánto tiempo me lo regresan", "me cobraron doble este mes")
    assert "cobraron" in query and query.startswith("y en cuánto tiempo")
    assert follow_up_query("y para estudiantes?", "cuanto cuesta el premium?") == (
        "y para estudiantes? cuanto cuesta"
    )


def test_the_documents_word_is_added_never_put_in_place() -> None:
    table = parse_equivalents({"plans": ["subscription", "subscriptions"], "cancelar": ["de baja"]})
    assert with_document_words("what subscriptions are there", table) == (
        "what subscriptions are there plans"
    )
    assert with_document_words("which plans are there", table) == "which plans are there"
    assert with_document_words("me doy de baja", table) == "me doy de baja cancelar"
    assert with_document_words("a subscriber", table) == "a subscriber"  # whole words only
    # Overlapping phrases all count, and the words come in the table's order.
    nested = parse_equivalents({"b": ["darme"], "a": ["darme de baja"], "c": ["baja"]})
    assert with_document_words("quiero darme de baja", nested) == "quiero darme de baja b a c"


def test_a_kind_word_inside_a_phrase_that_does_not_ask_it() -> None:
    kinds = parse_kinds(
        {
            "time": {"asks": ["cuando"], "states": [], "unless": ["cuando quieras"]},
            "contact": {"asks": ["email"], "states": [], "slack": 0.15},
        }
    )
    assert asked_kinds("¿cuándo abren?", kinds) == {"time"}
    assert asked_kinds("¿puedo cancelar cuando quieras?", kinds) == frozenset()
    assert kind_slack(frozenset({"contact"}), kinds) == 0.15
    assert kind_slack(frozenset({"time"}), kinds) == 0.1


def test_the_questions_of_a_message_of_several_sentences() -> None:
    message = "Does the camera record at night? Someone keeps stealing parcels."
    assert asking_sentences(message) == ["Does the camera record at night?"]
    assert asking_sentences("Does the camera record at night?") == []


_Base = CannedBase


HOURS = Passage(
    "kb", "hours", "hours", "Open 9 am to 6 pm. Email help@acme.example.", 0.0, "en", "hours"
)


def test_under_the_floor_a_passage_counts_when_it_states_every_kind_asked() -> None:
    base = _Base({"hours": 0.17}, {"hours": HOURS})
    assert [p.source for p in base.retrieve("when do you open", 2, "en")] == ["hours"]
    # "When was it founded" asks a time and a person: a passage stating a time alone is no answer.
    assert base.retrieve("when was the company founded", 2, "en") == []
    # Asking for an email by name counts from further under the floor; "an email address where I
    # can write" asks for no place.
    far = _Base({"hours": 0.12}, {"hours": HOURS})
    assert far.retrieve("is there an email address where I can write to you", 2, "en") != []
    assert far.retrieve("when do you open", 2, "en") == []


def test_filler_words_and_documents_words_for_trials() -> None:
    from tools.answer_kinds import filler_words
    from tools.equivalents import with_document_words

    assert {"sorry", "disculpa"} <= filler_words()
    assert "free" in with_document_words("is there a trial?").split()
    assert "promotions" in with_document_words("any offers now?").split()


def test_the_same_question_of_something_else_borrows_only_the_way_of_asking() -> None:
    query = follow_up_query("y para estudiantes?", "and for enterprise?")
    assert "enterprise" not in query  # the thing asked about before is not lent
    query = follow_up_query("what about the thermostat?", "how much is the hub display?")
    assert "much" in query and "display" not in query
