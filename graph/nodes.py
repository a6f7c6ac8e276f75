"""The supervisor's nodes that are not agents: load context, route, escalate, log, compact.

What a turn writes to the conversation log is `graph.conversation_log`; the messages of a turn
(`inbound_of_turn`, `reply_message_id`) are `graph.messages`, re-exported here.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

import structlog
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    RemoveMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.runtime import Runtime

from agents import AgentContext, messages_this_turn
from graph.conversation_log import log_turn
from graph.deps import SupervisorDeps
from graph.messages import inbound_of_turn, reply_before_turn, reply_message_id, text_of
from graph.state import SupervisorState
from stores import whatsapp_user_id
from tools import ESCALATION_TOOL, detect_language
from tools.language import Language, number_language

__all__ = ["SupervisorNodes", "inbound_of_turn", "reply_message_id"]

log = structlog.get_logger(__name__)


def _context(runtime: Runtime[AgentContext] | None) -> AgentContext:
    context = runtime.context if runtime is not None else None
    return context if isinstance(context, AgentContext) else AgentContext()


class SupervisorNodes:
    """Node functions bound to their dependencies."""

    def __init__(self, deps: SupervisorDeps) -> None:
        self.deps = deps

    async def load_context(
        self, state: SupervisorState, runtime: Runtime[AgentContext]
    ) -> dict[str, Any]:
        """Session start: customer, language, a summary of earlier sessions. Every turn: clock."""
        inbound = inbound_of_turn(state.messages)
        text = " ".join(text_of(m) for m in inbound)
        variables = dict(state.context_variables)
        variables.pop("step_limit_reached", None)
        variables.pop("escalation_reason", None)
        variables.pop("confirmation", None)
        updates: dict[str, Any] = {"escalation_triggered": False}
        user_id = state.user_id or (whatsapp_user_id(state.wa_id) if state.wa_id else None)
        language = state.language
        if state.session_id is None:
            updates["session_id"] = f"sess_{uuid.uuid4().hex[:20]}"
            updates["user_id"] = user_id
            customer = None
            if self.deps.customers is not None and state.wa_id:
                customer = await self.deps.customers.afind_by_phone(
                    state.wa_id, state.business_account_id
                )
            if customer is not None:
                updates["customer_id"] = customer.id
                variables |= {
                    "customer_name": customer.name,
                    "service_level": customer.service_level,
                }
                language = customer.language
            elif state.wa_id:
                # No record: the number's country calling code (34..., 52...: Spanish).
                language = number_language(state.wa_id) or language
            if self.deps.conversations is not None and user_id:
                summary = await self._history_summary(user_id, state.business_account_id)
                if summary:
                    variables["history_summary"] = summary
            variables["session_started_at"] = time.time()
            log.info(
                "session started",
                session_id=updates["session_id"],
                customer=updates.get("customer_id"),
            )
        default: Language = "es" if language == "es" else "en"
        updates["language"] = detect_language(text, default=default) if text else language
        variables["turn_started_at"] = time.time()
        updates["context_variables"] = variables
        return updates

    async def _history_summary(self, user_id: str, account: str | None) -> str:
        """Earlier conversations of this customer with this business account only."""
        assert self.deps.conversations is not None
        try:
            recent = await self.deps.conversations.arecent_history(
                user_id, self.deps.history_summary_messages, account
            )
        except Exception as error:
            log.warning("history unavailable", error=repr(error)[:200])
            return ""
        lines = []
        for item in recent:
            who = "customer" if item.role == "user" else f"assistant ({item.agent_id or 'agent'})"
            content = item.content if len(item.content) <= 160 else item.content[:157] + "..."
            lines.append(f"[{item.timestamp[:10]}] {who}: {content}")
        return " | ".join(lines)

    async def route(self, state: SupervisorState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        inbound = inbound_of_turn(state.messages)
        text = " ".join(text_of(m) for m in inbound)
        decision = await self.deps.router.aroute(
            text,
            active_agent=state.active_agent,
            threshold=_context(runtime).router_threshold,
            last_reply=reply_before_turn(state.messages),
        )
        log.info(
            "routed",
            agent=decision.agent_id,
            confidence=decision.confidence,
            reason=decision.reason,
        )
        return {
            "active_agent": decision.agent_id,
            "current_intent": decision.agent_id,
            "context_variables": {
                **state.context_variables,
                "route_confidence": decision.confidence,
                "route_reason": decision.reason,
            },
        }

    @staticmethod
    def choose_agent(state: SupervisorState) -> str:
        """The edge from `route` to the agent it chose (edges are drawn from the path map)."""
        assert state.active_agent is not None
        return state.active_agent

    @staticmethod
    def after_agent(state: SupervisorState) -> Literal["escalate", "log_conversation"]:
        escalated = any(
            isinstance(m, ToolMessage) and m.name == ESCALATION_TOOL
            for m in messages_this_turn(state.messages)
        )
        return "escalate" if escalated else "log_conversation"

    @staticmethod
    def escalate(state: SupervisorState) -> dict[str, Any]:
        """Flag the turn for a person; the conversation log and metrics carry the flag."""
        calls = [
            call
            for m in messages_this_turn(state.messages)
            if isinstance(m, AIMessage)
            for call in m.tool_calls
            if call["name"] == ESCALATION_TOOL
        ]
        reason = str(calls[-1]["args"].get("reason", "")) if calls else ""
        log.info("escalation triggered", session_id=state.session_id, reason=reason[:200])
        return {
            "escalation_triggered": True,
            "context_variables": {**state.context_variables, "escalation_reason": reason},
        }

    async def log_conversation(self, state: SupervisorState) -> dict[str, Any]:
        """One DynamoDB item per inbound message and one for the reply (idempotent on ids)."""
        store = self.deps.conversations
        if store is None or not state.user_id or not state.session_id:
            return {}
        await log_turn(store, state)
        return {}

    @staticmethod
    def compact_history(state: SupervisorState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        """Remove the oldest turns beyond the token budget: checkpoints stay small and flat.

        DynamoDB already holds every removed message; the cut always lands on a customer message so
        a tool result never loses its call.
        """
        budget = _context(runtime).max_history_tokens
        messages = state.messages
        total = 0
        cut = len(messages)
        for index in range(len(messages) - 1, -1, -1):
            total += count_tokens_approximately([messages[index]])
            if total > budget:
                break
            cut = index
        while cut < len(messages) and not isinstance(messages[cut], HumanMessage):
            cut += 1
        last_turn_start = (
            len(messages) - len(messages_this_turn(messages)) - len(inbound_of_turn(messages))
        )
        cut = min(cut, last_turn_start)
        if cut <= 0:
            return {}
        return {"messages": [RemoveMessage(id=str(m.id)) for m in messages[:cut]]}
