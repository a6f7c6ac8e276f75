"""A product or company name, not the question, pulling a message to an agent."""

from __future__ import annotations

from graph.follow_ups import TopicWords
from graph.head_topic import HeadTopic, capitalised_names
from graph.router import content_terms

TEXTS = [
    ("sales", "The Home Speaker costs 99 dollars."),
    ("sales", "What is the price of the premium plan?"),
    ("devices", "Restart Deezer on the Home Speaker when music stops."),
    ("general", "What are your opening hours?"),
]


def _head() -> HeadTopic:
    return HeadTopic(TEXTS, TopicWords(TEXTS, content_terms), content_terms)


def test_capitalised_names_drop_a_sentence_opening_word() -> None:
    assert capitalised_names("Disconnect Deezer please") == ["deezer"]
    assert capitalised_names("Venden robots?") == []
    assert capitalised_names("is the Home Speaker loud") == ["home speaker"]


def test_a_name_with_a_topic_the_agent_never_uses_is_pulled() -> None:
    assert _head().pulled_by_name("how long is the guarantee on the Home Speaker?", "sales")


def test_a_name_with_a_topic_the_agent_uses_is_not() -> None:
    assert not _head().pulled_by_name("what is the price of the home speaker?", "sales")


def test_no_known_name_or_a_possessive_moves_nothing() -> None:
    head = _head()
    assert not head.pulled_by_name("how long is the guarantee?", "sales")
    assert not head.pulled_by_name("my Home Speaker is frozen", "devices")


def test_every_capitalised_run_is_a_name_but_an_acronym_is_a_word() -> None:
    assert capitalised_names("ask the CEO at 9 AM") == []
    head = _head()
    # "Acme Home Speaker" holds a known name: the whole run is a name, "CEO" the topic.
    assert head.pulled_by_name("who is the CEO of Acme Home Speaker?", "sales")
    # An unknown name ("Corner Shop") is no topic either: "price" alone is, and sales uses it.
    assert not head.pulled_by_name("the price of the Home Speaker at Corner Shop", "sales")
