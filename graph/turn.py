"""Run one customer turn through the supervisor: what the worker, `wam chat` and evals all call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents import AgentContext, messages_this_turn
from graph.builder import SupervisorGraph


def thread_id_for(phone_number_id: str, wa_id: str) -> str:
    """One thread per business number and customer."""
    return f"{phone_number_id}:{wa_id}"


@dataclass
class TurnResult:
    reply: str
    agent_id: str | None
    tools: list[str]
    tool_calls: list[dict[str, Any]]
    tool_outputs: list[str]
    escalation_triggered: bool
    model_id: str | None
    language: str
    session_id: str | None
    state: dict[str, Any] = field(repr=False)


async def run_turn(
    graph: SupervisorGraph,
    *,
    phone_number_id: str,
    wa_id: str,
    texts: list[str],
    message_ids: list[str] | None = None,
    context: AgentContext | None = None,
    message_types: list[str] | None = None,
) -> TurnResult:
    """Answer `texts` (one message, or a burst of several) as one turn of the user's thread.

    `durability="exit"`: one checkpoint per turn. A crashed turn leaves the thread at the previous
    turn, and the queue replays it whole.
    """
    ids = message_ids or [f"local.{uuid.uuid4().hex}" for _ in texts]
    kinds = message_types or ["text"] * len(texts)
    inbound = [
        HumanMessage(content=text, id=message_id, additional_kwargs={"message_type": kind})
        for text, message_id, kind in zip(texts, ids, kinds, strict=True)
    ]
    state = await graph.ainvoke(
        {"messages": inbound, "wa_id": wa_id, "business_account_id": phone_number_id},
        config={"configurable": {"thread_id": thread_id_for(phone_number_id, wa_id)}},
        context=context or AgentContext(),
        durability="exit",
    )
    return turn_result(state)


def turn_result(state: dict[str, Any]) -> TurnResult:
    messages = state["messages"]
    turn = messages_this_turn(messages)
    reply = next((m for m in reversed(turn) if isinstance(m, AIMessage)), None)
    calls = [call for m in turn if isinstance(m, AIMessage) for call in m.tool_calls]
    outputs = [m for m in turn if isinstance(m, ToolMessage)]
    return TurnResult(
        reply=str(reply.content) if reply else "",
        agent_id=state.get("active_agent"),
        tools=[call["name"] for call in calls],
        tool_calls=[{"name": c["name"], "args": c["args"]} for c in calls],
        tool_outputs=[str(m.content) for m in outputs],
        escalation_triggered=bool(state.get("escalation_triggered")),
        model_id=state.get("model_id"),
        language=state.get("language", "en"),
        session_id=state.get("session_id"),
        state=state,
    )
