"""What an agent sends to its model: a conversation every provider accepts.

The checkpointed history holds every agent's messages, tool calls included. A model request
carries only this agent's own tool exchanges of the current turn; earlier turns (and other agents'
work) travel as plain text: the customer's messages and the answers they got. The result obeys
Bedrock Converse's rules (which also satisfy OpenAI-compatible servers):

- it starts with a customer message, and roles alternate (runs are merged);
- no tool block unless the agent has tools, and only for tools it has;
- every tool call is answered right after it (a call with no result gets an error result);
- no empty text.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage

NOT_RUN = "Not run: no result was recorded for this call."


def text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
    )


def _current_turn_start(messages: Sequence[AnyMessage]) -> int:
    """Index of the first message after the customer's last message."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index + 1
    return 0


def _as_text(message: AnyMessage) -> BaseMessage | None:
    """A message of an earlier turn as plain text (tool calls and results dropped)."""
    text = text_of(message).strip()
    if isinstance(message, HumanMessage):
        return HumanMessage(content=text or "(no text)", id=message.id)
    if isinstance(message, AIMessage) and text and not message.tool_calls:
        return AIMessage(content=text, id=message.id, name=message.name)
    return None


def _own_exchanges(
    turn: Sequence[AnyMessage], agent_id: str, tool_names: set[str]
) -> list[BaseMessage]:
    """This agent's model messages of the current turn, each tool call followed by its results."""
    results = {m.tool_call_id: m for m in turn if isinstance(m, ToolMessage)}
    kept: list[BaseMessage] = []
    for message in turn:
        if not isinstance(message, AIMessage) or message.name not in (agent_id, None):
            continue
        calls = [c for c in message.tool_calls if c["name"] in tool_names and c.get("id")]
        text = text_of(message).strip()
        if not calls:
            if text:
                kept.append(AIMessage(content=text, id=message.id, name=message.name))
            continue
        kept.append(AIMessage(content=text, tool_calls=calls, id=message.id, name=message.name))
        for call in calls:
            result = results.get(str(call["id"]))
            content = text_of(result).strip() if result is not None else ""
            kept.append(
                ToolMessage(
                    content=content or NOT_RUN,
                    tool_call_id=str(call["id"]),
                    name=call["name"],
                    status=result.status if result is not None else "error",
                )
            )
    return kept


def _merge_runs(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Consecutive customer messages, or plain assistant texts, become one message."""
    merged: list[BaseMessage] = []
    for message in messages:
        previous = merged[-1] if merged else None
        same_human = isinstance(message, HumanMessage) and isinstance(previous, HumanMessage)
        plain_ai = (
            isinstance(message, AIMessage)
            and isinstance(previous, AIMessage)
            and not previous.tool_calls
        )
        if previous is not None and (same_human or plain_ai):
            text = "\n\n".join(t for t in (text_of(previous), text_of(message)) if t.strip())
            merged[-1] = message.model_copy(update={"content": text})
            continue
        merged.append(message)
    return merged


def model_request(
    history: Sequence[AnyMessage], agent_id: str, tool_names: set[str]
) -> list[BaseMessage]:
    """The conversation part of a model request (the system prompt goes before it)."""
    start = _current_turn_start(history)
    earlier = [m for m in (_as_text(message) for message in history[:start]) if m is not None]
    current = _own_exchanges(history[start:], agent_id, tool_names) if tool_names else []
    if not tool_names:
        current = [m for m in (_as_text(message) for message in history[start:]) if m is not None]
    messages = _merge_runs([*earlier, *current])
    while messages and not isinstance(messages[0], HumanMessage):
        messages.pop(0)
    return messages or [HumanMessage(content="(no text)")]


def tools_as_text(
    history: Sequence[AnyMessage], agent_id: str, tool_names: set[str], header: str = ""
) -> list[BaseMessage]:
    """A request with no tool blocks at all: this turn's tool results as text after the question.

    For the last model call of a turn, made without tools, so the model answers from what it has.
    """
    start = _current_turn_start(history)
    exchanges = _own_exchanges(history[start:], agent_id, tool_names)
    lines = [f"- {m.name}: {text_of(m).strip()}" for m in exchanges if isinstance(m, ToolMessage)]
    messages = model_request(history[:start], agent_id, set())
    if lines:
        title = header or "Results of the tools called in this turn:"
        messages = _merge_runs([*messages, HumanMessage(content="\n".join([title, *lines]))])
    return messages


__all__ = ["model_request", "text_of", "tools_as_text"]
