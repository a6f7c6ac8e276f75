"""State and run-time context shared by every agent subgraph (the supervisor state extends it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph.message import add_messages


@dataclass(kw_only=True)
class AgentState:
    """What an agent reads and writes. Keys shared with the supervisor flow both ways."""

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)
    customer_id: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    language: str = "en"
    context_variables: dict[str, Any] = field(default_factory=dict)
    model_id: str | None = None


@dataclass(kw_only=True)
class AgentContext:
    """What a developer tunes per run (Studio's assistant config, evals' `--set`).

    Unset fields keep each agent's own config.
    """

    model_provider: str | None = None
    model_id: str | None = None
    temperature: float | None = None
    router_threshold: float = 0.35
    max_history_tokens: int = 1500


def messages_this_turn(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The messages after the customer's last message (this turn's model and tool messages)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return list(messages)


def model_calls_this_turn(messages: list[AnyMessage]) -> int:
    return sum(isinstance(m, AIMessage) for m in messages_this_turn(messages))
