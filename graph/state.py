"""The supervisor's state: the agent state plus the session and routing of a WhatsApp thread."""

from __future__ import annotations

from dataclasses import dataclass

from agents import AgentState


@dataclass(kw_only=True)
class SupervisorState(AgentState):
    """One WhatsApp thread (`thread_id = "<phone_number_id>:<wa_id>"`).

    Inherited: `messages` (bounded: old turns are removed once DynamoDB holds them), `customer_id`,
    `wa_id`, `user_id`, `language`, `context_variables`, `model_id`.
    """

    business_account_id: str | None = None
    session_id: str | None = None
    current_intent: str | None = None
    active_agent: str | None = None
    escalation_triggered: bool = False
