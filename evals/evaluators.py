"""Evaluators: each returns `{key, score, comment}`, the shape LangSmith expects (or None when the
case does not apply)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from evals.dataset import Turn
from graph import TurnResult
from tools.knowledge import STOPWORDS
from tools.language import Language, detect_language

KB_TOOL = "search_knowledge_base"
_FIRST_SOURCE = re.compile(r"\[source: ([^\]]+)\]")

EvalResult = dict[str, Any]

# A refusal or "I don't know" says what cannot be done or is not known; an apology alone is not one
# ("Sorry, I moved it" is an answer). Folded text (no accents).
REFUSAL_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(don'?t|do not|doesn'?t|does not|didn'?t) (have|know|offer|sell|see|find)\b",
        r"\b(can'?t|cannot|couldn'?t|could not|unable to|not able to)\b",
        r"\bnot (included|linked|available|part of|something i)\b",
        r"\bno (customer )?account\b|\bno information\b|\bnothing on\b",
        r"\bno (tengo|se|sabemos|puedo|pude|encuentro|encontre|ofrecemos|vendemos|tenemos)\b",
        r"\bno (esta|estan) (incluido|incluida|disponible|vinculad)",
        r"\bno hay informacion\b|\bsin informacion\b",
    )
)
_FACT = re.compile(r"\$?\d[\d.,:]*%?|\b[A-Z]{2,}-\d+\b|[\w.+-]+@[\w-]+\.[\w.]+")
# Citations: the tools' `[source: slug]`, and the readable `(Source: Name)` replies carry.
_SOURCE_TAG = re.compile(r"\[source: [^\]]+\]|\((?:Source|Fuente): [^)]+\)")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CONTENT = re.compile(r"[a-z0-9]{4,}")
_CLAIM_SUPPORT = 0.6


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_refusal(reply: str) -> bool:
    """The reply declines, or says it does not know or cannot do it."""
    folded = _fold(reply).replace("\u2019", "'")
    return any(pattern.search(folded) for pattern in REFUSAL_PATTERNS)


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


def _facts(text: str) -> set[str]:
    return {f.rstrip(".,:") for f in _FACT.findall(text)} - {""}


def _words(text: str) -> set[str]:
    """Content words, cut to 5 letters so that 'costs' meets 'cost' and 'cuesta' 'cuest'."""
    return {w[:5] for w in _CONTENT.findall(_fold(text)) if w not in STOPWORDS}


def _claims(reply: str) -> list[str]:
    """Sentences of the reply that state a fact: a number, amount, code or email, or a name
    (a capitalized word after the first). Questions, greetings and refusals are not claims."""
    claims = []
    for sentence in _SENTENCE.split(_SOURCE_TAG.sub(" ", reply)):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or is_refusal(sentence):
            continue
        names = re.findall(r"(?<=\w[\s,(])[A-Z][a-z]+", sentence)
        if _facts(sentence) or names:
            claims.append(sentence)
    return claims


def groundedness(turn: Turn, result: TurnResult) -> EvalResult | None:
    """Share of the reply's claims that one sentence of the evidence (tool output or the
    customer's message) supports: it holds every fact of the claim and most of its words. An
    address given as a price fails, though its numbers appear in the tool output. None when the
    reply makes no claim."""
    claims = _claims(result.reply)
    if not claims:
        return None
    evidence = [
        s
        for text in [*result.tool_outputs, turn.input]
        for s in _SENTENCE.split(_SOURCE_TAG.sub(" ", text))
        if s.strip()
    ]
    supported = [c for c in claims if any(_supports(e, c) for e in evidence)]
    unsupported = [c[:80] for c in claims if c not in supported]
    return _result(
        "groundedness",
        len(supported) / len(claims),
        f"unsupported: {unsupported}" if unsupported else "every claim supported",
    )


def _supports(evidence: str, claim: str) -> bool:
    facts = _facts(claim)
    if not all(f in evidence or f.lstrip("$") in evidence for f in facts):
        return False
    words = _words(claim) - {f.lstrip("$") for f in facts}
    if not words:
        return True
    return len(words & _words(evidence)) / len(words) >= _CLAIM_SUPPORT


def refusal(turn: Turn, result: TurnResult) -> EvalResult:
    said_no = is_refusal(result.reply)
    ok = said_no == turn.refusal
    expectation = "a refusal or 'I don't know'" if turn.refusal else "an answer"
    return _result("refusal_correctness", ok, f"expected {expectation}")


def reply_language(language: str, result: TurnResult) -> EvalResult | None:
    """The reply is in the customer's language (None for an empty reply)."""
    if not result.reply.strip():
        return None
    expected: Language = "es" if language == "es" else "en"
    said = detect_language(_SOURCE_TAG.sub(" ", result.reply), default=expected)
    return _result("reply_language", said == language, f"expected {language}, replied {said}")


def proposes_expected_change(turn: Turn, result: TurnResult) -> bool:
    """The turn ended on a proposal of exactly an expected change (the tool and every key
    argument the case names), asked in the reply and waiting for the customer's yes."""
    pending = result.pending
    if not pending or not result.reply.strip():
        return False
    call = {"name": str(pending.get("tool", "")), "args": dict(pending.get("arguments") or {})}
    return any(_matches(tool.model_dump(), call) for tool in turn.expected_tools)


def answered(turn: Turn, result: TurnResult) -> EvalResult:
    """The customer was served: every required fact present, or a correct "I don't know" /
    refusal, or (small talk, nothing to look up) a reply that is not a refusal.

    A change waits for the customer's yes, so a single turn cannot show its outcome (a refund's
    `under_review`): proposing exactly the expected change (tool and key arguments) serves the
    turn. Any other proposal, or a question instead of one, is scored on the facts as before."""
    reply = result.reply.casefold()
    if turn.refusal:
        ok = is_refusal(result.reply)
    elif turn.required_facts:
        ok = all(fact.casefold() in reply for fact in turn.required_facts) and bool(reply)
        if not ok and proposes_expected_change(turn, result):
            return _result("answered", True, "served: proposed the expected change")
    else:
        ok = bool(reply.strip()) and not is_refusal(result.reply)
    return _result("answered", ok, "served" if ok else "not served")


def retrieval_relevance(turn: Turn, result: TurnResult) -> EvalResult | None:
    """Did the knowledge base return the right passage first, or nothing when it has no answer?

    With a `kb_source`: the first passage retrieved is from it. For a question the KB cannot
    answer (`refusal` with a KB search): no passage came back (the relevance floor held)."""
    searched = [
        o
        for c, o in zip(result.tool_calls, result.tool_outputs, strict=False)
        if c["name"] == KB_TOOL
    ]
    if turn.kb_source:
        first = next((m.group(1) for o in searched for m in [_FIRST_SOURCE.search(o)] if m), None)
        return _result("retrieval_relevance", first == turn.kb_source, f"first passage: {first}")
    if turn.refusal and searched:
        empty = all("[source:" not in o for o in searched)
        return _result("retrieval_relevance", empty, "nothing retrieved" if empty else "retrieved")
    return None


def evaluate_turn(turn: Turn, result: TurnResult, language: str | None = None) -> list[EvalResult]:
    """Every evaluator that applies; `language`: the customer's (for `reply_language`)."""
    results = [
        routing(turn, result),
        *tool_calls(turn, result),
        refusal(turn, result),
        answered(turn, result),
    ]
    optional_results = (
        kb_hit(turn, result),
        correctness(turn, result),
        groundedness(turn, result),
        retrieval_relevance(turn, result),
        reply_language(language, result) if language else None,
    )
    for optional in optional_results:
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
    "answered",
    "reply_language",
    "retrieval_relevance",
    "llm_judge_correctness",
)
