"""The supervisor's nodes that are not agents: load context, route, escalate, log, compact."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    RemoveMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.runtime import Runtime

from agents import AgentContext, messages_this_turn
from graph.deps import SupervisorDeps
from graph.state import SupervisorState
from stores import ConversationMessage, format_timestamp, whatsapp_user_id
from tools import ESCALATION_TOOL, detect_language
from tools.language import Language

log = structlog.get_logger(__name__)


def _text(message: AnyMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))


def _context(runtime: Runtime[AgentContext] | None) -> AgentContext:
    context = runtime.context if runtime is not None else None
    return context if isinstance(context, AgentContext) else AgentContext()


def inbound_of_turn(messages: list[AnyMessage]) -> list[HumanMessage]:
    """The customer messages this turn answers (a burst of several is one turn)."""
    index = len(messages) - 1
    while index >= 0 and not isinstance(messages[index], HumanMessage):
        index -= 1
    inbound: list[HumanMessage] = []
    while index >= 0 and isinstance(messages[index], HumanMessage):
        message = messages[index]
        assert isinstance(message, HumanMessage)
        inbound.append(message)
        index -= 1
    return inbound[::-1]


def reply_message_id(inbound: list[HumanMessage]) -> str:
    """The outbound id is derived from the inbound one, so a replayed turn logs its reply once."""
    return f"{inbound[-1].id}:reply" if inbound else f"reply-{uuid.uuid4().hex}"


class SupervisorNodes:
    """Node functions bound to their dependencies."""

    def __init__(self, deps: SupervisorDeps) -> None:
        self.deps = deps

    async def load_context(
        self, state: SupervisorState, runtime: Runtime[AgentContext]
    ) -> dict[str, Any]:
        """Session start: customer, language, a summary of earlier sessions. Every turn: clock."""
        inbound = inbound_of_turn(state.messages)
        text = " ".join(_text(m) for m in inbound)
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
        text = " ".join(_text(m) for m in inbound)
        decision = await self.deps.router.aroute(
            text, active_agent=state.active_agent, threshold=_context(runtime).router_threshold
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
        inbound = inbound_of_turn(state.messages)
        reply = state.messages[-1] if state.messages else None
        started = state.context_variables.get("turn_started_at")
        elapsed = int((time.time() - started) * 1000) if started else None
        turn = messages_this_turn(state.messages)
        tokens = sum(
            m.usage_metadata["total_tokens"]
            for m in turn
            if isinstance(m, AIMessage) and m.usage_metadata
        )
        metadata = {
            "language": state.language,
            "intent": state.current_intent,
            "route_confidence": state.context_variables.get("route_confidence"),
            "business_account_id": state.business_account_id,
            "customer_id": state.customer_id,
        }
        arrived = datetime.fromtimestamp(started or time.time(), UTC)
        items = [
            ConversationMessage(
                user_id=state.user_id,
                timestamp=format_timestamp(arrived + timedelta(milliseconds=position)),
                session_id=state.session_id,
                message_id=str(message.id),
                direction="inbound",
                role="user",
                message_type=str(message.additional_kwargs.get("message_type", "text")),
                content=_text(message) or "(empty)",
                agent_id=state.active_agent,
                metadata={k: v for k, v in metadata.items() if v is not None},
            )
            for position, message in enumerate(inbound)
        ]
        confirmation = state.context_variables.get("confirmation") or {}
        if confirmation:
            items += self._confirmation_items(state, inbound, confirmation, arrived, metadata)
        reply_after = arrived + timedelta(milliseconds=len(inbound) + (2 if confirmation else 0))
        sent = confirmation.get("decision") != "cancel"  # a cancelled proposal's reply is not sent
        if isinstance(reply, AIMessage) and _text(reply).strip() and sent:
            tool_names = [m.name for m in turn if isinstance(m, ToolMessage)]
            items.append(
                ConversationMessage(
                    user_id=state.user_id,
                    session_id=state.session_id,
                    message_id=reply_message_id(inbound),
                    timestamp=format_timestamp(
                        max(datetime.now(UTC) + timedelta(milliseconds=1), reply_after)
                    ),
                    direction="outbound",
                    role="assistant",
                    content=_text(reply),
                    agent_id=state.active_agent,
                    model_id=state.model_id,
                    processing_time_ms=elapsed,
                    tokens_used=tokens,
                    status="generated",
                    escalation_triggered=state.escalation_triggered,
                    metadata={
                        **{k: v for k, v in metadata.items() if v is not None},
                        "tools": [n for n in tool_names if n],
                    },
                )
            )
        # Every item belongs to the business account of the conversation (tenancy).
        account = {"business_account_id": state.business_account_id}
        items = [item.model_copy(update=account) for item in items]
        # Timestamps are explicit, so the writes need no order: they go out together.
        await asyncio.gather(*(store.aappend(item) for item in items))
        return {}

    @staticmethod
    def _confirmation_items(
        state: SupervisorState,
        inbound: list[HumanMessage],
        confirmation: dict[str, Any],
        arrived: datetime,
        metadata: dict[str, Any],
    ) -> list[ConversationMessage]:
        """The proposal that was sent, and the customer's answer to it when it was a yes or no."""
        assert state.user_id and state.session_id
        shared = {
            "user_id": state.user_id,
            "session_id": state.session_id,
            "agent_id": state.active_agent,
            "metadata": {
                **{k: v for k, v in metadata.items() if v is not None},
                "proposal_id": confirmation.get("proposal_id"),
            },
        }
        items = [
            ConversationMessage(
                **shared,
                message_id=f"{inbound[-1].id if inbound else 'turn'}:proposal",
                timestamp=format_timestamp(arrived + timedelta(milliseconds=len(inbound))),
                direction="outbound",
                role="assistant",
                content=str(confirmation.get("summary") or "(proposal)"),
                status="generated",
            )
        ]
        if confirmation.get("message_id"):
            answered = max(datetime.now(UTC), arrived + timedelta(milliseconds=len(inbound) + 1))
            items.append(
                ConversationMessage(
                    **shared,
                    message_id=str(confirmation["message_id"]),
                    timestamp=format_timestamp(answered),
                    direction="inbound",
                    role="user",
                    message_type=str(confirmation.get("message_type") or "text"),
                    content=str(confirmation.get("text") or "(empty)"),
                )
            )
        return items

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
