"""Run one customer turn through the supervisor: what the worker, `wam chat` and evals all call.

A change an agent proposed waits in the thread's checkpoint (a LangGraph interrupt). The next turn
answers it first (`graph.confirmations`): a yes to exactly that proposal resumes it and the change
runs; a no, or a button of another proposal, cancels it; any other message cancels it and is then
answered as usual.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents import AgentContext, messages_this_turn
from agents.canned import canned
from graph.builder import SupervisorGraph
from graph.confirmations import answer_to


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
    buttons: list[tuple[str, str]] = field(default_factory=list)
    """WhatsApp reply buttons (id, title): at most 3, titles of at most 20 characters."""
    pending: dict[str, Any] | None = None
    """The proposal now waiting for the customer's yes, if any."""


async def pending_proposal(graph: SupervisorGraph, config: RunnableConfig) -> dict[str, Any] | None:
    """The interrupt value of the change waiting on this thread (None when nothing waits)."""
    try:
        snapshot = await graph.aget_state(config)
    except ValueError:  # compiled without a checkpointer (Studio's own runs)
        return None
    for interrupt in snapshot.interrupts:
        value = interrupt.value
        if isinstance(value, dict) and value.get("kind") == "confirmation":
            return value
    return None


async def run_turn(
    graph: SupervisorGraph,
    *,
    phone_number_id: str,
    wa_id: str,
    texts: list[str],
    message_ids: list[str] | None = None,
    context: AgentContext | None = None,
    message_types: list[str] | None = None,
    reply_ids: list[str] | None = None,
) -> TurnResult:
    """Answer `texts` (one message, or a burst of several) as one turn of the user's thread.

    `reply_ids`: the WhatsApp interactive reply id of each message ("" when none).
    `durability="exit"`: one checkpoint per turn. A crashed turn leaves the thread at the previous
    turn, and the queue replays it whole.
    """
    config: RunnableConfig = {"configurable": {"thread_id": thread_id_for(phone_number_id, wa_id)}}
    run_context = context or AgentContext()
    ids = message_ids or [f"local.{uuid.uuid4().hex}" for _ in texts]
    kinds = message_types or ["text"] * len(texts)
    pending = await pending_proposal(graph, config)
    if pending is not None:
        last_reply = (reply_ids or [""])[-1] if reply_ids else ""
        answer = answer_to(pending, texts[-1] if texts else "", last_reply or "")
        if answer.kind in ("yes", "no") and ids:
            answer.resume.update(message_id=ids[-1], message_type=kinds[-1])
        state = await graph.ainvoke(
            Command(resume=answer.resume), config, context=run_context, durability="exit"
        )
        if answer.kind in ("yes", "no"):
            return turn_result(state)
        if answer.kind == "stale":
            result = turn_result(state)
            result.reply = canned("stale_confirmation", result.language)
            return result
    inbound = [
        HumanMessage(content=text, id=message_id, additional_kwargs={"message_type": kind})
        for text, message_id, kind in zip(texts, ids, kinds, strict=False)
    ]
    state = await graph.ainvoke(
        {"messages": inbound, "wa_id": wa_id, "business_account_id": phone_number_id},
        config=config,
        context=run_context,
        durability="exit",
    )
    return turn_result(state)


def turn_result(state: dict[str, Any]) -> TurnResult:
    messages = state["messages"]
    turn = messages_this_turn(messages)
    reply = next((m for m in reversed(turn) if isinstance(m, AIMessage) and m.content), None)
    calls: list[Any] = [call for m in turn if isinstance(m, AIMessage) for call in m.tool_calls]
    outputs = [m for m in turn if isinstance(m, ToolMessage)]
    pending = next(
        (
            i.value
            for i in state.get("__interrupt__", [])
            if isinstance(i.value, dict) and i.value.get("kind") == "confirmation"
        ),
        None,
    )
    text = str(reply.content) if reply else ""
    buttons: list[tuple[str, str]] = []
    if pending is not None:  # the proposing call is inside the paused agent, not in `messages`
        text = str(pending["summary"])
        buttons = [(str(b[0]), str(b[1])[:20]) for b in pending.get("buttons", [])][:3]
        calls = [{"name": pending["tool"], "args": pending["arguments"], "id": None}]
    return TurnResult(
        reply=text,
        agent_id=state.get("active_agent"),
        tools=[call["name"] for call in calls],
        tool_calls=[{"name": c["name"], "args": c["args"]} for c in calls],
        tool_outputs=[str(m.content) for m in outputs],
        escalation_triggered=bool(state.get("escalation_triggered")),
        model_id=state.get("model_id"),
        language=state.get("language", "en"),
        session_id=state.get("session_id"),
        state=state,
        buttons=buttons,
        pending=pending,
    )
