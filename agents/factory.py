"""Agent config -> compiled subgraph: a tool-calling loop that ends well.

```
START -> model --(tool calls, under the cap)--> tools --> model
              |                                      \\--> END  (a confirmed or declined change)
              \\--(tool calls, cap reached)----> step_limit -> END
               \\-(an answer)------------------> END
```

- Each model request carries only this agent's tool exchanges of the current turn (`requests`).
- A repeated call returns the earlier result with a nudge (`executor`); on the last allowed call
  the model is asked, with no tools, to answer from the results it has; the step-limit apology is
  the last resort. `require_tool_call` makes the model call a tool before its first answer.
- Changes are proposed and wait for the customer's yes (`executor`, LangGraph `interrupt()`).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import structlog
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agents.canned import canned, instruction
from agents.executor import ToolExecutor
from agents.loader import LoadedAgent
from agents.providers import ModelRegistry
from agents.requests import model_request, tools_as_text
from agents.schema import ModelSettings
from agents.state import AgentContext, AgentState, messages_this_turn, model_calls_this_turn

log = structlog.get_logger(__name__)

APOLOGY = {language: canned("apology", language) for language in ("en", "es")}
STEP_LIMIT = {language: canned("step_limit", language) for language in ("en", "es")}


def bounded_history(messages: list[Any], max_tokens: int) -> list[Any]:
    """The latest messages within `max_tokens`, starting on a customer message.

    Whatever the length of the conversation, the model sees a bounded window (the full history
    stays in DynamoDB); tool results are never separated from the call that asked for them.
    """
    trimmed: list[Any] = trim_messages(
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
            f"Customer: {variables['customer_name']}, "
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


def _tools_used(messages: list[AnyMessage]) -> bool:
    return any(isinstance(m, ToolMessage) for m in messages_this_turn(messages))


class _AgentModel:
    """The `model` node: builds a well-formed request and calls the agent's model."""

    def __init__(self, agent: LoadedAgent, registry: ModelRegistry, tools: list[BaseTool]):
        self.agent = agent
        self.registry = registry
        self.tools = tools
        self.tool_names = {t.name for t in tools}
        self._bound: dict[tuple[str, str, str], Runnable[Any, Any]] = {}

    def _runnable(
        self, settings: ModelSettings, provider: str | None, mode: str
    ) -> tuple[Runnable[Any, Any], str]:
        """`mode`: "tools" (bound), "required" (a tool call forced) or "plain" (no tools)."""
        chosen = self.registry.provider_for(settings, provider)
        key = (chosen, settings.model_dump_json(), mode)
        if key not in self._bound:
            chat_model = self.registry.chat_model(settings, chosen)
            if mode == "plain" or not self.tools:
                self._bound[key] = chat_model
            elif mode == "required":
                self._bound[key] = chat_model.bind_tools(self.tools, tool_choice="any")
            else:
                self._bound[key] = chat_model.bind_tools(self.tools)
        return self._bound[key], self.registry.model_id_for(settings, chosen)

    def _prompt(self, state: AgentState, context: AgentContext, mode: str) -> list[BaseMessage]:
        system = f"{self.agent.system_prompt}\n\n{_context_block(state)}"
        if mode == "plain" and self.tools:
            system += f"\n\n{instruction('answer_now')}"
            history = tools_as_text(state.messages, self.agent.config.id, self.tool_names)
        else:
            if mode == "required":
                system += f"\n\n{instruction('tool_required')}"
            history = model_request(state.messages, self.agent.config.id, self.tool_names)
        return [SystemMessage(system), *bounded_history(history, context.max_history_tokens)]

    def _mode(self, state: AgentState) -> str:
        calls = model_calls_this_turn(state.messages)
        cap = self.agent.config.max_model_calls
        if self.tools and calls >= 1 and calls >= cap - 1 and _tools_used(state.messages):
            return "plain"
        return "tools"

    async def __call__(self, state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        context = runtime.context if isinstance(runtime.context, AgentContext) else AgentContext()
        settings = effective_model_settings(self.agent.config.model, context)
        mode = self._mode(state)
        started = time.perf_counter()
        response, model_id = await self._call(state, context, settings, mode)
        needs_tool = self.agent.config.require_tool_call and not _tools_used(state.messages)
        retry = needs_tool and mode == "tools" and self.tools and not response.tool_calls
        if retry and "error" not in response.response_metadata:
            response, model_id = await self._call(state, context, settings, "required")
        response.name = self.agent.config.id
        response.response_metadata = {
            **response.response_metadata,
            "model_id": model_id,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        return {"messages": [response], "model_id": model_id}

    async def _call(
        self, state: AgentState, context: AgentContext, settings: ModelSettings, mode: str
    ) -> tuple[AIMessage, str]:
        runnable, model_id = self._runnable(settings, context.model_provider, mode)
        try:
            response = await runnable.ainvoke(self._prompt(state, context, mode))
        except Exception as error:
            log.warning(
                "model call failed",
                agent=self.agent.config.id,
                model_id=model_id,
                error=repr(error)[:300],
            )
            response = AIMessage(content=canned("apology", state.language))
            response.response_metadata = {"error": type(error).__name__}
        assert isinstance(response, AIMessage)
        return response, model_id


def build_agent_graph(
    agent: LoadedAgent, registry: ModelRegistry, tools: list[BaseTool]
) -> CompiledStateGraph[AgentState, AgentContext, Any, Any]:
    """The compiled subgraph of one domain agent (no checkpointer: the parent's is used)."""
    config = agent.config

    def after_model(state: AgentState) -> Literal["tools", "step_limit", "__end__"]:
        last = state.messages[-1] if state.messages else None
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "__end__"
        if model_calls_this_turn(state.messages) >= config.max_model_calls or not tools:
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
                status="error",
            )
            for call in last.tool_calls
        ]
        answer = AIMessage(content=canned("step_limit", state.language), name=config.id)
        answer.response_metadata = {"model_id": state.model_id, "step_limit": True}
        return {
            "messages": [*skipped, answer],
            "context_variables": {**state.context_variables, "step_limit_reached": True},
        }

    builder = StateGraph(AgentState, context_schema=AgentContext)
    builder.add_node("model", _AgentModel(agent, registry, tools))
    builder.add_node("step_limit", step_limit)
    builder.add_edge(START, "model")
    if tools:
        builder.add_node("tools", ToolExecutor(config.id, tools), destinations=("model", END))
        builder.add_conditional_edges("model", after_model)
    else:
        builder.add_conditional_edges("model", after_model, ["step_limit", END])
    builder.add_edge("step_limit", END)
    return builder.compile(name=config.id)


__all__ = [
    "APOLOGY",
    "STEP_LIMIT",
    "bounded_history",
    "build_agent_graph",
    "effective_model_settings",
]
