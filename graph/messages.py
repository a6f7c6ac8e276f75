"""The messages of a turn in the supervisor's state: their text, the customer messages a turn
answers, the reply before them, and the id its reply is logged and sent under."""

from __future__ import annotations

import uuid

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage


def text_of(message: AnyMessage) -> str:
    """The message's text (the text parts of a multi-part content, joined)."""
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))


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


def reply_before_turn(messages: list[AnyMessage]) -> str | None:
    """The text of the last reply sent before this turn's customer messages (what a "how much is
    that one?" refers to), or None at a conversation's start."""
    index = len(messages) - 1
    while index >= 0 and not isinstance(messages[index], HumanMessage):
        index -= 1
    while index >= 0 and isinstance(messages[index], HumanMessage):
        index -= 1
    while index >= 0:
        message = messages[index]
        if isinstance(message, AIMessage) and not message.tool_calls and text_of(message).strip():
            return text_of(message)
        if isinstance(message, HumanMessage):
            return None
        index -= 1
    return None


def reply_message_id(inbound: list[HumanMessage]) -> str:
    """The outbound id is derived from the inbound one, so a replayed turn logs its reply once."""
    return f"{inbound[-1].id}:reply" if inbound else f"reply-{uuid.uuid4().hex}"
