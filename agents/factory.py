"""Agent config -> compiled subgraph: a tool-calling loop with a hard cap on model calls per turn.

```
START -> model --(tool calls, under the cap)--> tools -> model
              \\--(tool calls, cap reached)----> step_limit -> END
               \\-(an answer)------------------> END
```

When the cap is hit, or the model fails, the customer still gets a polite answer, and every tool
call the model asked for gets a result (Bedrock rejects a conversation with an unanswered tool use).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import structlog
from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from agents.limits import model_calls
from agents.loader import LoadedAgent
from agents.providers import ModelRegistry, merge_consecutive_assistant_messages
from agents.schema import ModelSettings
from agents.state import AgentContext, AgentState, model_calls_this_turn

log = structlog.get_logger(__name__)

APOLOGY = {
    "en": "Sorry, I'm having trouble answering right now. Please try again in a moment, or ask "
    "for a person and our team will help you.",
    "es": "Lo siento, ahora mismo tengo problemas para responder. Inténtalo de nuevo en un momento "
    "o pide hablar con una persona y nuestro equipo te ayudará.",
}
STEP_LIMIT = {
    "en": "Sorry, I couldn't finish that in the steps I'm allowed. Could you rephrase it, or ask "
    "for a person?",
    "es": "Lo siento, no pude completarlo en los pasos que tengo permitidos. ¿Puedes reformularlo "
    "o pedir hablar con una persona?",
}


def bounded_history(messages: list[AnyMessage], max_tokens: int) -> list[AnyMessage]:
    """The latest messages within `max_tokens`, starting on a customer message.

    Whatever the length of the conversation, the model sees a bounded window (the full history
    stays in DynamoDB); tool results are never separated from the call that asked for them.
    """
    trimmed: list[AnyMessage] = trim_messages(  # type: ignore[assignment]
        messages,
        strategy="last",
        token_counter=count_tokens_approximately,
        max_tokens=max_tokens,
        start_on="human",
        allow_partial=False,
    )
    return trimmed or messages[-1:]


def _context_block(state: AgentState) -> str:
    variables = state.context_variables
    lines = []
    if variables.get("customer_name"):
        lines.append(
            f"Customer: {variables['customer_name']} (id {state.customer_id}), "
            f"{variables.get('service_level', 'unknown')} plan."
        )
    else:
        lines.append("Customer: not linked to an account (unknown WhatsApp number).")
    language = "Spanish" if state.language == "es" else "English"
    lines.append(f"Reply in {language}.")
    if variables.get("history_summary"):
        lines.append(f"Earlier conversations (summary): {variables['history_summary']}")
    return "\n".join(lines)


def effective_model_settings(
    settings: ModelSettings, context: AgentContext | None
) -> ModelSettings:
    """The agent's model settings with the run's overrides applied."""
    if context is None:
        return settings
    updates: dict[str, Any] = {}
    if context.model_id:
        updates["model_id"] = context.model_id
    if context.temperature is not None:
        updates["temperature"] = context.temperature
    return settings.model_copy(update=updates) if updates else settings


def build_agent_graph(
    agent: LoadedAgent, registry: ModelRegistry, tools: list[BaseTool]
) -> CompiledStateGraph[AgentState, AgentContext, Any, Any]:
    """The compiled subgraph of one domain agent (no checkpointer: the parent's is used)."""
    config = agent.config
    bound: dict[tuple[str, str], Runnable[Any, Any]] = {}

    def model_for(settings: ModelSettings, provider: str | None) -> tuple[Runnable[Any, Any], str]:
        chosen = registry.provider_for(settings, provider)
        key = (chosen, settings.model_dump_json())
        if key not in bound:
            chat_model = registry.chat_model(settings, chosen)
            bound[key] = chat_model.bind_tools(tools) if tools else chat_model
        return bound[key], registry.model_id_for(settings, chosen)

    async def model(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        context = runtime.context if isinstance(runtime.context, AgentContext) else AgentContext()
        settings = effective_model_settings(config.model, context)
        runnable, model_id = model_for(settings, context.model_provider)
        prompt: list[AnyMessage] = [
            SystemMessage(f"{agent.system_prompt}\n\n{_context_block(state)}"),
            *bounded_history(state.messages, context.max_history_tokens),
        ]
        started = time.perf_counter()
        try:
            async with model_calls.slot():
                response = await runnable.ainvoke(merge_consecutive_assistant_messages(prompt))
        except Exception as error:
            log.warning(
                "model call failed", agent=config.id, model_id=model_id, error=repr(error)[:300]
            )
            response = AIMessage(content=APOLOGY.get(state.language, APOLOGY["en"]))
            response.response_metadata = {"error": type(error).__name__}
        response.name = config.id
        response.response_metadata = {
            **response.response_metadata,
            "model_id": model_id,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        return {"messages": [response], "model_id": model_id}

    def after_model(state: AgentState) -> Literal["tools", "step_limit", "__end__"]:
        last = state.messages[-1] if state.messages else None
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "__end__"
        if model_calls_this_turn(state.messages) >= config.max_model_calls:
            return "step_limit"
        return "tools"

    def step_limit(state: AgentState) -> dict[str, Any]:
        last = state.messages[-1]
        assert isinstance(last, AIMessage)
        log.warning("agent step limit reached", agent=config.id, cap=config.max_model_calls)
        skipped = [
            ToolMessage(
                content="Not run: the step limit of this turn was reached.",
                tool_call_id=call["id"] or "",
                name=call["name"],
            )
            for call in last.tool_calls
        ]
        answer = AIMessage(content=STEP_LIMIT.get(state.language, STEP_LIMIT["en"]), name=config.id)
        answer.response_metadata = {"model_id": state.model_id, "step_limit": True}
        return {
            "messages": [*skipped, answer],
            "context_variables": {**state.context_variables, "step_limit_reached": True},
        }

    builder = StateGraph(AgentState, context_schema=AgentContext)
    builder.add_node("model", model)
    builder.add_node("step_limit", step_limit)
    builder.add_edge(START, "model")
    if tools:
        builder.add_node("tools", ToolNode(tools, handle_tool_errors=True))
        builder.add_conditional_edges("model", after_model)
        builder.add_edge("tools", "model")
    else:
        builder.add_conditional_edges("model", after_model, ["step_limit", END])
    builder.add_edge("step_limit", END)
    return builder.compile(name=config.id)


__all__ = ["bounded_history", "build_agent_graph", "effective_model_settings"]
