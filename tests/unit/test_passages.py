"""Which sentences of retrieved passages the offline model quotes (`agents.passages`): the kind of
answer asked for, the names asked about, a number of things against a capacity, one answer per
clause, and no answer from a sentence that shares only a name. No Redis, no embeddings."""

from __future__ import annotations

import re

from agents.passages import Scorer, best_passage_answer, clauses, names_in
from tools.answer_kinds import asked_count, asked_kinds, stated_capacity, stated_kinds

PLANS = (
    "# Plans\n\nAcme Home has three plans. The Basic plan costs $9.99 per month and covers 1 "
    "device. The Premium plan costs $29.99 per month and covers up to 3 devices, with priority "
    "support. The Enterprise plan costs $99 per month and covers up to 10 devices.\n"
    "[source: plans]"
)
PROMOS = (
    "# Promotions\n\nThis month, new Premium customers get the first month free. Upgrading from "
    "Basic to Premium keeps your settings, and the price difference is prorated.\n"
    "[source: promotions]"
)
PRODUCTS = (
    "# Products\n\nThe Smart Thermostat costs $149 and learns your schedule. Every device works "
    "with every plan.\n[source: products]"
)


def _terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w.rstrip("s") for w in words if len(w) > 2 and w not in {"the", "and", "what", "how"}}


def _asks(text: str) -> bool:
    return text.strip().endswith("?") or text.lower().startswith(("what", "how", "is "))


SCORER = Scorer(_terms, lambda q, texts: [0.0] * len(texts), lambda c: 0.0, _asks)


def _answer(question: str, text: str) -> str | None:
    return best_passage_answer(question, text, question, "en", SCORER, lambda s, _: f"({s})")


def test_names_are_runs_of_capitalised_words_inside_sentences() -> None:
    names = names_in(PLANS + PRODUCTS)
    assert {("basic",), ("premium",), ("enterprise",), ("smart", "thermostat")} <= names
    assert ("acme", "home") in names  # a run opening a sentence is a name
    assert ("every",) not in names and ("plans",) not in names  # headings and first words


def test_counts_capacities_and_what_is_included() -> None:
    assert asked_count("is there a plan for more than 3 gadgets?") == 4
    assert asked_count("una oficina con 8 aparatos") == 8
    assert asked_count("how much is premium") is None
    assert stated_capacity("covers up to 10 devices") == 10
    assert asked_kinds("what do I get with enterprise") == {"includes"}
    assert "includes" in stated_kinds("The plan covers up to 3 devices")
    assert "person" in asked_kinds("who owns the company?")


def test_the_price_of_a_named_plan_comes_from_the_sentence_stating_it() -> None:
    answer = _answer("How much would Premium be, then?", f"{PROMOS}\n\n{PLANS}")
    assert answer is not None and "$29.99" in answer and "(plans)" in answer


def test_a_number_of_things_picks_the_plan_that_holds_them() -> None:
    answer = _answer("is there a plan for more than 3 gadgets? we have 6", PLANS)
    assert answer is not None and "$99" in answer and "$9.99" not in answer


def test_a_question_of_two_clauses_gets_an_answer_to_each() -> None:
    assert len(clauses("thermostat price? and would it work on the basic plan", _terms, _asks)) == 2
    assert clauses("what days and times is it open?", _terms, _asks) == [
        "what days and times is it open?"
    ]
    answer = _answer("thermostat price? and would it work on any plan", f"{PLANS}\n\n{PRODUCTS}")
    assert answer is not None and "$149" in answer and "Every device works" in answer


def test_a_sentence_sharing_only_a_name_is_no_answer() -> None:
    assert _answer("what is the stock price of acme home today", PLANS) is None
    assert _answer("who owns acme home?", PLANS) is None
    answer = _answer("what do I get with enterprise", PLANS)
    assert answer is not None and "10 devices" in answer


STEPS = (
    "# Wifi\n\nIf a speaker drops the wifi: first restart it for 10 seconds. Then keep it within "
    "10 meters of the router. If it still drops, reset its network in the app.\n[source: wifi]"
)


def test_a_list_request_quotes_every_thing_listed() -> None:
    answer = _answer("can you list the plans you have with their prices?", PLANS)
    assert answer is not None and all(p in answer for p in ("$9.99", "$29.99", "$99 "))


def test_a_comparison_quotes_each_thing_compared() -> None:
    answer = _answer("what is the difference between Premium and Enterprise?", PLANS)
    assert answer is not None and "$29.99" in answer and "10 devices" in answer
    single = _answer("what do I get with enterprise", PLANS)
    assert single is not None and "$29.99" not in single  # one thing asked: one sentence


def test_the_first_of_a_series_of_steps_brings_the_steps_after_it() -> None:
    answer = _answer("my speaker drops the wifi, what do I do?", STEPS)
    assert answer is not None and "router" in answer and "reset" in answer


def test_a_scene_setting_sentence_does_not_choose_the_answer() -> None:
    # "I'm on Basic." sets the scene: the question is whether devices work with every plan.
    answer = _answer(
        "Do your devices only work on some plans? I want a thermostat but I'm on Basic.",
        f"{PRODUCTS}\n\n{PLANS}",
    )
    assert answer is not None and "Every device works" in answer


def test_a_named_thing_without_the_topic_asked_is_no_answer() -> None:
    # The product's name alone: the topic asked (a warranty) is in no sentence.
    assert _answer("is a guarantee period part of the Smart Thermostat deal?", PRODUCTS) is None
    # Only the kind asked about a named thing, and the sentence states no such kind.
    assert _answer("whose company is Acme Home?", PLANS) is None
    # A topic word shared, the name too: an answer.
    assert _answer("what does the Smart Thermostat learn?", PRODUCTS) is not None
    # No topic beyond the name and the kind, the kind stated: an answer.
    assert "$149" in (_answer("how much is the Smart Thermostat?", PRODUCTS) or "")


def test_a_name_no_passage_knows_must_be_named_by_the_answer() -> None:
    # "Winter Sale" is named by no passage: sharing its other words is not enough.
    assert _answer("is the price difference prorated in the Winter Sale?", PROMOS) is None
    assert _answer("is the price difference prorated?", PROMOS) is not None


def test_filler_words_are_no_topic() -> None:
    # "sorry", "quick one" say how it is asked: the price answers.
    assert "$149" in (
        _answer("sorry, quick one: how much is the Smart Thermostat?", PRODUCTS) or ""
    )


def test_a_name_in_the_plural_is_the_same_name() -> None:
    hours = (
        "# Hours\n\nWe answer Monday to Friday from 9 AM to 6 PM and Saturdays from 10 AM to "
        "2 PM.\n[source: hours]\n\n# Shop\n\nThe shop is open Monday to Saturday from 10 AM to "
        "6 PM.\n[source: shop]"
    )
    assert "Saturdays" in (_answer("what are your opening hours on Saturday?", hours) or "")
    assert "contact" in asked_kinds("mañana quisiera llamarles")


def test_each_kind_asked_that_a_sentence_states_counts() -> None:
    # "how much per month" asks an amount and a period: the sentence stating both beats one that
    # shares more words but states neither.
    answer = _answer("upgrading to premium, how much per month", PROMOS + "\n\n" + PLANS)
    assert answer is not None and "$29.99" in answer


def test_a_question_of_two_facts_gets_a_sentence_for_each() -> None:
    students = PROMOS.replace("prorated.", "prorated. Students get 20% off any plan.")
    answer = _answer("how much would premium be for a student", students + "\n\n" + PLANS)
    assert answer is not None and "$29.99" in answer and "20%" in answer


def test_an_abbreviation_the_documents_spell_out_is_no_foreign_name() -> None:
    location = "# Location\n\nOur showroom is at 1 Main Street, San Francisco.\n[source: location]"
    answer = _answer("r u guys in SF?", location)
    assert answer is not None and "San Francisco" in answer


def test_a_thing_asked_in_the_plural_gets_every_thing_of_its_kind() -> None:
    speakers = (
        "# Products\n\nThe Mini speaker costs $49 and suits small rooms. The Big speaker costs "
        "$99 and fills a living room. The Smart Thermostat costs $149.\n[source: products]"
    )
    answer = _answer("do you sell speakers? how much", speakers)
    assert answer is not None and "$49" in answer and "$99" in answer and "$149" not in answer
    single = _answer("how much is the mini speaker?", speakers)
    assert single is not None and "$99" not in single


def test_a_name_in_a_scene_setting_sentence_is_not_what_is_asked() -> None:
    question = "I just moved to Leeds and want a smart home. How much is Premium per month?"
    answer = _answer(question, PLANS)
    assert answer is not None and "$29.99" in answer


def test_a_code_names_one_thing_and_a_code_no_passage_holds_is_unknown() -> None:
    coded = PROMOS.replace("the first month free.", "the first month free with the code ACME30.")
    answer = _answer("ACME30 still valid?", coded)
    assert answer is not None and "ACME30" in answer  # though no sentence says "valid"
    assert _answer("SUMMER20 still valid?", coded) is None  # a code opening the message too


SPEAKERS = (
    "# Products\n\nThe Mini speaker costs $49 and suits small rooms. The Big speaker costs "
    "$99 and fills a living room. The Smart Thermostat costs $149.\n[source: products]"
)


def test_the_cheapest_gets_the_lowest_amount_and_the_dearest_the_highest() -> None:
    cheapest = _answer("which is the cheapest speaker?", SPEAKERS)
    assert cheapest is not None and "$49" in cheapest and "$99" not in cheapest
    dearest = _answer("which is the most expensive speaker?", SPEAKERS)
    assert dearest is not None and "$99" in dearest and "$49" not in dearest
    # A sentence sharing no word with the question is no candidate: a plan, not the thermostat.
    plan = _answer("what is the most expensive plan?", PLANS + "\n\n" + PRODUCTS)
    assert plan is not None and "$99 per month" in plan and "$149" not in plan


def test_what_comes_before_a_colon_sets_the_scene() -> None:
    parts = clauses(
        "no changes to my account, just curious: is Premium priced monthly?", _terms, _asks
    )
    assert parts == ["is Premium priced monthly?"]


def test_a_sentence_naming_every_thing_asked_states_how_they_go_together() -> None:
    music = PLANS.replace("with priority support", "with Spotify and priority support")
    answer = _answer("does Premium work with Spotify?", music)
    assert answer is not None and "$29.99" in answer


def test_things_compared_get_a_sentence_each_that_names_it_alone() -> None:
    answer = _answer("premium vs basic?", PROMOS + "\n\n" + PLANS)
    assert answer is not None and "$9.99" in answer and "$29.99" in answer
    speakers = _answer(
        "what is the difference between the Mini speaker and the Big speaker?", SPEAKERS
    )
    assert speakers is not None and "$49" in speakers and "$99" in speakers


def test_a_part_asking_only_a_kind_asks_it_of_what_the_other_parts_name() -> None:
    camera = PRODUCTS.replace(
        "learns your schedule.",
        "learns your schedule. The Door Camera costs $119 with night vision.",
    )
    answer = _answer("does the Door Camera see at night? and the price?", camera)
    assert answer is not None and "$119" in answer and "$149" not in answer


def test_a_one_word_name_after_in_or_from_is_where_the_customer_is() -> None:
    answer = _answer("I have a flat in Springfield, what plan covers up to 3 devices", PLANS)
    assert answer is not None and "$29.99" in answer
    assert _answer("do you have a discount for Springfield", PLANS) is None


def test_a_name_signing_the_message_off_is_not_what_is_asked() -> None:
    question = (
        "Good afternoon, I would like to know how much the cheapest plan costs. My grandson "
        "forgot. Many thanks, kind regards Rosalind"
    )
    answer = _answer(question, PLANS)
    assert answer is not None and "$9.99" in answer
    # A name no passage knows in the part that asks is still what is asked about.
    assert _answer("Many thanks. How much is the Rosalind plan?", PLANS) is None


def test_a_question_of_size_gets_the_sentence_stating_a_measure() -> None:
    displays = (
        "# Products\n\nThe Wall Display costs $129 and has a recipe mode. The Wall Display is a "
        "10-inch screen.\n[source: products]"
    )
    assert "size" in asked_kinds("what size is the screen?")
    assert "size" in stated_kinds("a 10-inch screen") and "size" in stated_kinds("de 7 pulgadas")
    answer = _answer("what is the size of the Wall Display?", displays)
    assert answer is not None and "10-inch" in answer


def test_a_passage_in_another_language_than_the_customers_is_never_quoted() -> None:
    """This model does not translate: with only an English passage, a Spanish question gets no
    sentence (the caller says "I don't know" in Spanish), and the Spanish passage wins when both
    came back."""
    question = "¿cuánto cuesta el plan Premium al mes?"
    spanish = (
        "# Planes\n\nEl plan Premium cuesta 29,99 dólares al mes e incluye hasta 3 "
        "dispositivos.\n[source: planes]"
    )

    def answer(text: str) -> str | None:
        return best_passage_answer(question, text, question, "es", SCORER, lambda s, _: f"({s})")

    assert answer(PLANS) is None
    both = answer(f"{PLANS}\n\n{spanish}")
    assert both is not None and "29,99 dólares" in both and "$29.99" not in both


def test_where_someone_studies_or_works_sets_the_scene_and_a_name_asked_about_does_not() -> None:
    students = (
        "# Promotions\n\nStudents get 20% off any plan with a valid student email.\n"
        "[source: promotions]"
    )
    assert _answer("im a student at FIU, any student discount?", students)
    assert _answer("my daughter's at UT Austin, does she get the student discount?", students)
    assert _answer("any Black Friday student discount?", students) is None
