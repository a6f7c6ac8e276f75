"""Evaluators: each returns `{key, score, comment}`, the shape LangSmith expects (or None when the
case does not apply)."""

from __future__ import annotations

import re
from typing import Any

from evals.dataset import Turn
from graph import TurnResult

EvalResult = dict[str, Any]

REFUSAL_MARKERS = (
    "don't have that information",
    "no tengo esa información",
    "not included",
    "no está incluido",
    "not linked",
    "no customer account",
    "don't know",
    "no lo sé",
    "no sé",
    "i'm sorry",
    "lo siento",
    "not run",
    "couldn't complete",
    "no pude",
)
_FACT = re.compile(r"\$?\d[\d.,:]*%?|\b[A-Z]{2,}-\d+\b|[\w.+-]+@[\w-]+\.[\w.]+")


def _result(key: str, score: float, comment: str = "") -> EvalResult:
    return {"key": key, "score": round(float(score), 4), "comment": comment}


def routing(turn: Turn, result: TurnResult) -> EvalResult:
    ok = result.agent_id == turn.agent
    return _result("routing_accuracy", ok, f"expected {turn.agent}, got {result.agent_id}")


def _matches(expected: dict[str, Any], call: dict[str, Any]) -> bool:
    if expected["name"] != call["name"]:
        return False
    for key, value in expected.get("args", {}).items():
        actual = call["args"].get(key)
        if str(actual).casefold() != str(value).casefold():
            return False
    return True


def tool_calls(turn: Turn, result: TurnResult) -> list[EvalResult]:
    expected = [tool.model_dump() for tool in turn.expected_tools]
    calls = result.tool_calls
    matched_calls = sum(any(_matches(e, c) for e in expected) for c in calls)
    matched_expected = sum(any(_matches(e, c) for c in calls) for e in expected)
    precision = matched_calls / len(calls) if calls else 1.0
    recall = matched_expected / len(expected) if expected else 1.0
    comment = f"expected {[e['name'] for e in expected]}, called {[c['name'] for c in calls]}"
    return [_result("tool_precision", precision, comment), _result("tool_recall", recall, comment)]


def kb_hit(turn: Turn, result: TurnResult) -> EvalResult | None:
    if not turn.kb_source:
        return None
    hit = any(f"[source: {turn.kb_source}]" in output for output in result.tool_outputs)
    return _result("kb_hit_rate", hit, f"expected passage from {turn.kb_source}")


def correctness(turn: Turn, result: TurnResult) -> EvalResult | None:
    if not turn.required_facts:
        return None
    reply = result.reply.casefold()
    found = [fact for fact in turn.required_facts if fact.casefold() in reply]
    missing = [fact for fact in turn.required_facts if fact not in found]
    return _result(
        "answer_correctness",
        len(found) / len(turn.required_facts),
        f"missing: {missing}" if missing else "all facts present",
    )


def groundedness(turn: Turn, result: TurnResult) -> EvalResult | None:
    """Share of the reply's checkable facts (amounts, numbers, codes, emails) found in what the
    tools returned or the customer said; None when the reply states no such fact."""
    facts = {f.rstrip(".,:") for f in _FACT.findall(result.reply)}
    facts.discard("")
    if not facts:
        return None
    evidence = " ".join(result.tool_outputs) + " " + turn.input
    grounded = [f for f in facts if f in evidence or f.lstrip("$") in evidence]
    ungrounded = sorted(facts - set(grounded))
    return _result(
        "groundedness",
        len(grounded) / len(facts),
        f"not in evidence: {ungrounded}" if ungrounded else "all facts grounded",
    )


def refusal(turn: Turn, result: TurnResult) -> EvalResult:
    said_no = any(marker in result.reply.casefold() for marker in REFUSAL_MARKERS)
    ok = said_no == turn.refusal
    expectation = "a refusal or 'I don't know'" if turn.refusal else "an answer"
    return _result("refusal_correctness", ok, f"expected {expectation}")


def evaluate_turn(turn: Turn, result: TurnResult) -> list[EvalResult]:
    results = [routing(turn, result), *tool_calls(turn, result), refusal(turn, result)]
    for optional in (kb_hit(turn, result), correctness(turn, result), groundedness(turn, result)):
        if optional is not None:
            results.append(optional)
    return results


METRICS = (
    "routing_accuracy",
    "tool_precision",
    "tool_recall",
    "kb_hit_rate",
    "answer_correctness",
    "groundedness",
    "refusal_correctness",
    "llm_judge_correctness",
)
