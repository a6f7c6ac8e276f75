"""Model requests carry only the agent's own tool exchanges of this turn; the strict Converse
stub's validator rejects each malformation Bedrock rejects."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.requests import model_request, tools_as_text
from stubs import converse_violations


def _call(name: str, call_id: str) -> dict[str, object]:
    return {"name": name, "args": {"query": "x"}, "id": call_id}


HISTORY = [
    HumanMessage("how much is premium?", id="h1"),
    AIMessage("", tool_calls=[_call("search_knowledge_base", "c1")], name="sales"),
    ToolMessage("Premium is 29.99", tool_call_id="c1", name="search_knowledge_base"),
    AIMessage("Premium costs 29.99.", name="sales"),
    HumanMessage("and my invoice?", id="h2"),
    HumanMessage("please", id="h3"),
    AIMessage("", tool_calls=[_call("get_latest_invoice", "c2")], name="billing"),
    ToolMessage("INV-1", tool_call_id="c2", name="get_latest_invoice"),
]


def test_earlier_turns_travel_as_text_and_runs_are_merged() -> None:
    request = model_request(HISTORY, "billing", {"get_latest_invoice"})
    kinds = [type(m).__name__ for m in request]
    assert kinds == ["HumanMessage", "AIMessage", "HumanMessage", "AIMessage", "ToolMessage"]
    assert request[1].content == "Premium costs 29.99." and not request[1].tool_calls
    assert request[2].content == "and my invoice?\n\nplease"
    assert [c["id"] for c in request[3].tool_calls] == ["c2"]


def test_an_agent_never_sees_tools_it_does_not_have() -> None:
    request = model_request(HISTORY, "general", set())
    assert all(not isinstance(m, ToolMessage) for m in request)
    assert all(not getattr(m, "tool_calls", None) for m in request)
    roles = [type(m).__name__ for m in request]
    assert all(a != b for a, b in itertools.pairwise(roles))


def test_a_call_without_a_result_gets_an_error_result() -> None:
    history = [HumanMessage("hi"), AIMessage("", tool_calls=[_call("lookup", "c9")], name="a")]
    request = model_request(history, "a", {"lookup"})
    assert isinstance(request[-1], ToolMessage) and request[-1].status == "error"


def test_no_tools_request_carries_the_results_as_text() -> None:
    request = tools_as_text(HISTORY, "billing", {"get_latest_invoice"})
    assert all(not isinstance(m, ToolMessage) for m in request)
    assert "get_latest_invoice: INV-1" in str(request[-1].content)
    assert isinstance(request[-1], HumanMessage)


def _text(role: str, text: str) -> dict[str, object]:
    return {"role": role, "content": [{"text": text}]}


TOOLS = {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {}}}}]}
USE = {
    "role": "assistant",
    "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}],
}
RESULT = {
    "role": "user",
    "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}],
}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"messages": [_text("assistant", "hi")]}, "start with a user message"),
        ({"messages": [_text("user", "a"), _text("user", "b")]}, "alternate"),
        ({"messages": [_text("user", " ")]}, "blank"),
        ({"messages": [_text("user", "a"), USE, RESULT]}, "toolConfig field must be defined"),
        (
            {
                "messages": [
                    _text("user", "a"),
                    {
                        **USE,
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "other", "input": {}}}],
                    },
                    RESULT,
                ],
                "toolConfig": TOOLS,
            },
            "not in toolConfig",
        ),
        (
            {"messages": [_text("user", "a"), USE, _text("user", "b")], "toolConfig": TOOLS},
            "Expected toolResult",
        ),
    ],
)
def test_the_strict_stub_rejects_what_bedrock_rejects(
    body: dict[str, object], problem: str
) -> None:
    assert any(problem in p for p in converse_violations(body)), converse_violations(body)


def test_a_well_formed_request_passes() -> None:
    body = {"messages": [_text("user", "a"), USE, RESULT], "toolConfig": TOOLS}
    assert converse_violations(body) == []
