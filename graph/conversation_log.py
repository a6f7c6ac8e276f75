"""A turn written to the conversation log: one item per inbound message, the proposal and its
answer when the turn confirmed a change, and one for the reply (idempotent on ids).

Timestamps are explicit and ordered (inbound messages from the turn's start, a millisecond
apart; then the proposal, its answer and the reply), so the writes go out together.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agents import messages_this_turn
from graph.messages import inbound_of_turn, reply_message_id, text_of
from graph.state import SupervisorState
from stores import ConversationMessage, ConversationStore, format_timestamp


@dataclass(frozen=True)
class _Turn:
    """What every logged item of one turn shares."""

    state: SupervisorState
    user_id: str
    session_id: str
    inbound: list[HumanMessage]
    arrived: datetime
    metadata: dict[str, Any]  # the turn's set fields (language, intent, route, account, customer)


async def log_turn(store: ConversationStore, state: SupervisorState) -> None:
    """Append the turn's items, each owned by the conversation's business account (tenancy)."""
    if not state.user_id or not state.session_id:
        return
    account = {"business_account_id": state.business_account_id}
    items = [item.model_copy(update=account) for item in turn_items(state)]
    # Timestamps are explicit, so the writes need no order: they go out together.
    await asyncio.gather(*(store.aappend(item) for item in items))


def turn_items(state: SupervisorState) -> list[ConversationMessage]:
    """The log items of the turn that just ended (the state's user and session must be set)."""
    assert state.user_id and state.session_id
    started = state.context_variables.get("turn_started_at")
    elapsed = int((time.time() - started) * 1000) if started else None
    metadata = {
        "language": state.language,
        "intent": state.current_intent,
        "route_confidence": state.context_variables.get("route_confidence"),
        "business_account_id": state.business_account_id,
        "customer_id": state.customer_id,
    }
    turn = _Turn(
        state=state,
        user_id=state.user_id,
        session_id=state.session_id,
        inbound=inbound_of_turn(state.messages),
        arrived=datetime.fromtimestamp(started or time.time(), UTC),
        metadata={k: v for k, v in metadata.items() if v is not None},
    )
    items = _inbound_items(turn)
    confirmation = state.context_variables.get("confirmation") or {}
    if confirmation:
        items += _confirmation_items(turn, confirmation)
    sent = confirmation.get("decision") != "cancel"  # a cancelled proposal's reply is not sent
    reply = state.messages[-1] if state.messages else None
    if isinstance(reply, AIMessage) and text_of(reply).strip() and sent:
        items.append(_reply_item(turn, reply, elapsed, confirmed=bool(confirmation)))
    return items


def _inbound_items(turn: _Turn) -> list[ConversationMessage]:
    """The customer's messages, a millisecond apart from the turn's start."""
    return [
        ConversationMessage(
            user_id=turn.user_id,
            timestamp=format_timestamp(turn.arrived + timedelta(milliseconds=position)),
            session_id=turn.session_id,
            message_id=str(message.id),
            direction="inbound",
            role="user",
            message_type=str(message.additional_kwargs.get("message_type", "text")),
            content=text_of(message) or "(empty)",
            agent_id=turn.state.active_agent,
            metadata=dict(turn.metadata),
        )
        for position, message in enumerate(turn.inbound)
    ]


def _confirmation_items(turn: _Turn, confirmation: dict[str, Any]) -> list[ConversationMessage]:
    """The proposal that was sent, and the customer's answer to it when it was a yes or no."""
    inbound, arrived = turn.inbound, turn.arrived
    shared = {
        "user_id": turn.user_id,
        "session_id": turn.session_id,
        "agent_id": turn.state.active_agent,
        "metadata": {**turn.metadata, "proposal_id": confirmation.get("proposal_id")},
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


def _reply_item(
    turn: _Turn, reply: AIMessage, elapsed: int | None, *, confirmed: bool
) -> ConversationMessage:
    """The agent's reply, after everything else of the turn, with what it cost."""
    state = turn.state
    this_turn: list[AnyMessage] = messages_this_turn(state.messages)
    tokens = sum(
        m.usage_metadata["total_tokens"]
        for m in this_turn
        if isinstance(m, AIMessage) and m.usage_metadata
    )
    tool_names = [m.name for m in this_turn if isinstance(m, ToolMessage)]
    after = turn.arrived + timedelta(milliseconds=len(turn.inbound) + (2 if confirmed else 0))
    return ConversationMessage(
        user_id=turn.user_id,
        session_id=turn.session_id,
        message_id=reply_message_id(turn.inbound),
        timestamp=format_timestamp(max(datetime.now(UTC) + timedelta(milliseconds=1), after)),
        direction="outbound",
        role="assistant",
        content=text_of(reply),
        agent_id=state.active_agent,
        model_id=state.model_id,
        processing_time_ms=elapsed,
        tokens_used=tokens,
        status="generated",
        escalation_triggered=state.escalation_triggered,
        metadata={**turn.metadata, "tools": [n for n in tool_names if n]},
    )
