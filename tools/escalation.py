"""Hand the conversation to a person: the supervisor sees this tool's result and flags the turn."""

from __future__ import annotations

from langchain_core.tools import BaseTool, tool

ESCALATION_TOOL = "escalate_to_human"


def escalation_tool() -> BaseTool:
    @tool(ESCALATION_TOOL)
    def escalate_to_human(reason: str) -> str:
        """Hand the conversation to a human agent: talk to a person, real human, representative.

        reason: why the customer wants a person, in their words.
        """
        return (
            "ESCALATED: a human agent has been notified and will reply in this chat during "
            "opening hours (Mon-Fri 9-18, Sat 10-14 ET). Reason noted: " + reason
        )

    escalate_to_human.metadata = {
        "once_per_turn": True,  # one hand-over a turn, whatever reason the model words
        "examples": [
            "talk to a human",
            "speak with a real person",
            "I want an agent, not a bot",
            "hablar con una persona",
            "quiero un agente humano",
            "pásame con alguien",
        ],
    }
    return escalate_to_human
