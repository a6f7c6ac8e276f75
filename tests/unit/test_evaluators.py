"""Evaluators on hand-made results, and the offline router's accuracy over the whole dataset."""

from __future__ import annotations

import asyncio

from agents import load_agents
from evals import compare, evaluate_turn, load_dataset
from evals.dataset import Turn
from graph import CascadeRouter, LocalRouter, TurnResult


def _result(reply: str, agent: str = "sales", calls=(), outputs=()) -> TurnResult:
    return TurnResult(
        reply,
        agent,
        [c["name"] for c in calls],
        list(calls),
        list(outputs),
        False,
        "offline",
        "en",
        "s",
        {},
    )


def _scores(turn: Turn, result: TurnResult) -> dict[str, float]:
    return {r["key"]: r["score"] for r in evaluate_turn(turn, result)}


def test_a_good_grounded_answer_scores_one_everywhere() -> None:
    turn = Turn(
        input="How much is premium?",
        agent="sales",
        expected_tools=[{"name": "search_knowledge_base"}],
        required_facts=["$29.99"],
        kb_source="plans-and-pricing",
    )
    result = _result(
        "Premium costs $29.99 per month. [source: plans-and-pricing]",
        calls=[{"name": "search_knowledge_base", "args": {"query": "x"}}],
        outputs=["Premium costs $29.99.\n[source: plans-and-pricing]"],
    )
    assert _scores(turn, result) == {
        "routing_accuracy": 1.0,
        "tool_precision": 1.0,
        "tool_recall": 1.0,
        "refusal_correctness": 1.0,
        "answered": 1.0,
        "kb_hit_rate": 1.0,
        "answer_correctness": 1.0,
        "groundedness": 1.0,
        "retrieval_relevance": 1.0,
    }


def test_invented_amounts_wrong_agent_and_wrong_arguments_are_caught() -> None:
    turn = Turn(
        input="Set the volume to 30",
        agent="device_support",
        expected_tools=[{"name": "set_volume", "args": {"volume": 30}}],
        required_facts=["30"],
    )
    result = _result(
        "Done, the volume is now 45. You owe $12.",
        agent="billing",
        calls=[{"name": "set_volume", "args": {"volume": 45}}],
        outputs=["Done: volume is now 45."],
    )
    scores = _scores(turn, result)
    assert scores["routing_accuracy"] == 0.0
    assert scores["tool_precision"] == 0.0 and scores["tool_recall"] == 0.0
    assert scores["answer_correctness"] == 0.0
    assert scores["groundedness"] == 0.5  # the volume claim is supported, "$12" is invented


def test_refusals_are_expected_only_where_the_case_says() -> None:
    unknown = Turn(input="Do you sell vacuums?", agent="sales", refusal=True)
    assert (
        _scores(unknown, _result("I'm sorry, I don't have that information."))[
            "refusal_correctness"
        ]
        == 1.0
    )
    assert _scores(unknown, _result("Yes! The RoboVac costs $200."))["refusal_correctness"] == 0.0
    answerable = Turn(input="How much is premium?", agent="sales")
    assert (
        _scores(answerable, _result("I'm sorry, I don't have that information."))[
            "refusal_correctness"
        ]
        == 0.0
    )


def test_datasets_have_the_required_size_languages_and_hard_cases() -> None:
    single = load_dataset("single_turn")
    conversations = load_dataset("conversations")
    assert len(single) >= 120 and len(conversations) >= 20
    assert all(len(c.turns) >= 2 for c in conversations)
    tags = {t for c in single + conversations for t in c.tags}
    for needed in (
        "en",
        "es",
        "typo",
        "code_switching",
        "forbidden",
        "kb_unknown",
        "smoke",
        "topic_switch",
        "follow_up",
    ):
        assert needed in tags, needed
    agents = {turn.agent for c in single for turn in c.turns}
    assert agents == {"sales", "device_support", "billing", "general"}


def test_offline_cascade_router_is_at_least_90_percent_accurate_on_the_datasets() -> None:
    router = CascadeRouter(LocalRouter(load_agents()))

    async def accuracy() -> float:
        right = total = 0
        for conversation in load_dataset("single_turn") + load_dataset("conversations"):
            active = None
            for turn in conversation.turns:
                decision = await router.aroute(turn.input, active_agent=active)
                active = decision.agent_id
                right += decision.agent_id == turn.agent
                total += 1
        return right / total

    assert asyncio.run(accuracy()) >= 0.90


def test_compare_reports_deltas_flips_and_regressions() -> None:
    def run(score: float, passed: bool) -> dict:
        return {
            "metrics": {"routing_accuracy": score, "answer_correctness": 0.8},
            "records": [{"id": "a", "turn": 0, "passed": passed}],
        }

    result = compare(run(0.95, True), run(0.80, False), ["routing_accuracy"], 0.02)
    assert result.regressions == ["routing_accuracy"]
    assert result.flipped_to_fail == ["a#0"]
    assert "REGRESSION" in result.render()
    assert compare(run(0.95, True), run(0.94, True), ["routing_accuracy"], 0.02).regressions == []


def test_langsmith_is_left_alone_without_a_key(monkeypatch) -> None:
    from evals.langsmith_sync import examples, sync_to_langsmith

    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    record = {
        "id": "st-001",
        "turn": 0,
        "input": "hi",
        "customer": None,
        "language": "en",
        "expected_agent": "general",
        "tags": ["en"],
        "difficulty": "easy",
    }
    results = {"datasets": ["single_turn"], "records": [record]}
    assert sync_to_langsmith(results) is None
    assert examples(results)[0]["inputs"]["case"] == "st-001"


def test_llm_judge_scores_with_the_configured_model() -> None:
    from langchain_core.language_models import FakeListChatModel

    from evals.runner import _judge

    turn = Turn(input="How much is premium?", agent="sales", required_facts=["$29.99"])
    good = asyncio.run(_judge(FakeListChatModel(responses=["0.9"]), turn, _result("$29.99")))
    assert good == {"key": "llm_judge_correctness", "score": 0.9, "comment": "LLM judge"}
    odd = asyncio.run(_judge(FakeListChatModel(responses=["great!"]), turn, _result("x")))
    assert odd is not None and odd["score"] == 0.0 and "unparsable" in odd["comment"]
    assert (
        asyncio.run(
            _judge(
                FakeListChatModel(responses=["1"]),
                Turn(input="hi", agent="general"),
                _result("hello"),
            )
        )
        is None
    )


def test_groundedness_checks_claims_not_only_their_numbers() -> None:
    turn = Turn(input="How much is enterprise?", agent="sales")
    outputs = [
        "Our office is at 120 Market Street, Suite 400, San Francisco.\n[source: location]",
        "The Enterprise plan costs $99 per month.\n[source: plans-and-pricing]",
    ]
    wrong = _result("The Enterprise plan costs 120 per month at Market Street.", outputs=outputs)
    right = _result("The Enterprise plan costs $99 per month. [source: plans]", outputs=outputs)
    assert _scores(turn, wrong)["groundedness"] == 0.0
    assert _scores(turn, right)["groundedness"] == 1.0


def test_a_refusal_must_refuse_and_an_apology_is_not_one() -> None:
    unknown = Turn(input="Do you sell vacuums?", agent="sales", refusal=True)
    sorry_but_answered = _result("Sorry for the wait! The Echo Mini costs $49.")
    assert _scores(unknown, sorry_but_answered)["refusal_correctness"] == 0.0
    assert _scores(unknown, _result("No tengo esa información."))["answered"] == 1.0
    assert _scores(unknown, _result("We can't help with vacuums, sorry."))["answered"] == 1.0


def test_answered_reply_language_and_retrieval_relevance() -> None:
    turn = Turn(
        input="¿cuánto cuesta premium?",
        agent="sales",
        required_facts=["29,99"],
        kb_source="planes-y-precios",
    )
    call = [{"name": "search_knowledge_base", "args": {"query": "premium"}}]
    english = _result(
        "Premium costs $29.99 a month.",
        calls=call,
        outputs=["Premium costs $29.99.\n[source: plans-and-pricing]"],
    )
    scores = {r["key"]: r["score"] for r in evaluate_turn(turn, english, "es")}
    assert scores["answered"] == 0.0 and scores["reply_language"] == 0.0
    assert scores["retrieval_relevance"] == 0.0
    spanish = _result(
        "El plan Premium cuesta 29,99 dólares al mes.",
        calls=call,
        outputs=["El plan Premium cuesta 29,99 dólares.\n[source: planes-y-precios]"],
    )
    scores = {r["key"]: r["score"] for r in evaluate_turn(turn, spanish, "es")}
    assert scores["answered"] == scores["reply_language"] == scores["retrieval_relevance"] == 1.0
    unknown = Turn(input="robot vacuums?", agent="sales", refusal=True)
    floor_held = _result("I don't know.", calls=call, outputs=["NO_RESULTS: nothing"])
    assert _scores(unknown, floor_held)["retrieval_relevance"] == 1.0


def test_a_proposal_of_the_expected_change_serves_a_single_turn() -> None:
    """A change waits for the customer's yes: its outcome key cannot appear in one turn, so the
    proposal of exactly the expected change (tool and key arguments) is what serves the turn."""
    turn = Turn(
        input="turn it up to 80",
        agent="device_support",
        expected_tools=[{"name": "set_volume", "args": {"volume": 80}}],
        required_facts=["volume_set_80"],
    )
    call = {"name": "set_volume", "args": {"volume": 80, "device": "dev_1"}}

    def proposal(volume: int) -> TurnResult:
        result = _result("Set Kitchen Speaker to 80?", "device_support", calls=[call])
        args = {"volume": volume, "device": "dev_1"}
        result.pending = {"tool": "set_volume", "arguments": args, "summary": result.reply}
        return result

    assert _scores(turn, proposal(80))["answered"] == 1.0
    assert _scores(turn, proposal(80))["answer_correctness"] == 0.0  # still strict on facts
    assert _scores(turn, proposal(30))["answered"] == 0.0  # another change
    asked = _result("Which device: Kitchen Speaker or Hub?", "device_support", calls=[call])
    assert _scores(turn, asked)["answered"] == 0.0  # nothing proposed
    refusal = turn.model_copy(update={"refusal": True})
    assert _scores(refusal, proposal(80))["answered"] == 0.0
