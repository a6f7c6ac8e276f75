"""The agent subgraph's loop with fake models: the model-call cap, failures, Bedrock's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

from agents import (
    AgentConfig,
    LoadedAgent,
    ModelRegistry,
    ModelSettings,
    build_agent_graph,
    merge_consecutive_assistant_messages,
)


class AlwaysCallsTools(BaseChatModel):
    """Asks for a tool on every call, forever: only the cap ends the loop."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "always-tools"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        self.calls += 1
        call = {"name": "lookup", "args": {"query": "again"}, "id": f"call_{self.calls}"}
        return ChatResult(generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))])


class Broken(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "broken"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        raise TimeoutError("model endpoint timed out")


class FixedRegistry(ModelRegistry):
    def __init__(self, model: BaseChatModel) -> None:
        super().__init__(override="offline")
        self.model = model

    def chat_model(self, settings: ModelSettings, per_run: str | None = None) -> BaseChatModel:
        return self.model


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return "nothing new"


def _agent(cap: int) -> LoadedAgent:
    config = AgentConfig(
        id="looper",
        name="Looper",
        description="Keeps calling tools forever",
        examples={"en": ["loop"]},
        system_prompt="You loop.",
        max_model_calls=cap,
        fallback=True,
    )
    return LoadedAgent(config, "You loop.", Path("looper.yaml"))


async def test_model_calls_are_capped_and_the_customer_still_gets_an_answer() -> None:
    model = AlwaysCallsTools()
    graph = build_agent_graph(_agent(3), FixedRegistry(model), [lookup])
    state = await graph.ainvoke({"messages": [HumanMessage("hi")]})
    assert model.calls == 3
    messages = state["messages"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "steps I'm allowed" in final.content
    assert state["context_variables"]["step_limit_reached"] is True
    asked = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    assert asked == answered, "every tool call needs a result (Bedrock rejects dangling tool uses)"


async def test_cap_counts_per_turn_not_per_thread() -> None:
    model = AlwaysCallsTools()
    graph = build_agent_graph(_agent(2), FixedRegistry(model), [lookup])
    state = await graph.ainvoke({"messages": [HumanMessage("one")]})
    state = await graph.ainvoke({"messages": [*state["messages"], HumanMessage("two")]})
    assert model.calls == 4


async def test_model_failure_gives_a_polite_answer_in_the_customer_language() -> None:
    graph = build_agent_graph(_agent(3), FixedRegistry(Broken()), [lookup])
    state = await graph.ainvoke({"messages": [HumanMessage("hola")], "language": "es"})
    final = state["messages"][-1]
    assert final.content.startswith("Lo siento")
    assert final.response_metadata["error"] == "TimeoutError"


def test_consecutive_assistant_messages_are_merged_for_bedrock() -> None:
    call = {"name": "lookup", "args": {}, "id": "c1"}
    messages = [
        HumanMessage("hi"),
        AIMessage("first"),
        AIMessage("second"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("done", tool_call_id="c1"),
        AIMessage("answer"),
    ]
    merged = merge_consecutive_assistant_messages(messages)
    kinds = [type(m).__name__ for m in merged]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert merged[1].content == "first\n\nsecond"
    assert [c["id"] for c in merged[1].tool_calls] == ["c1"]


class Scripted(BaseChatModel):
    """Calls `lookup` with the same arguments while it has tools; answers text without them.

    With `lazy`, it answers text at once unless a tool call is required (`tool_choice`).
    """

    requests: list[list[Any]] = []
    tools_bound: bool = False
    tool_choice: str | None = None
    lazy: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, tool_choice: str | None = None, **kwargs: Any) -> Any:
        return self.model_copy(update={"tools_bound": True, "tool_choice": tool_choice})

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        self.requests.append(list(messages))
        if not self.tools_bound or (self.lazy and self.tool_choice is None):
            message = AIMessage("Here is what I found.")
        else:
            call = {"name": "counted", "args": {"query": "same"}, "id": f"c{len(self.requests)}"}
            message = AIMessage("", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=message)])


RUNS: list[str] = []


@tool
def counted(query: str) -> str:
    """Look something up (counts its runs)."""
    RUNS.append(query)
    return f"result for {query}"


async def test_a_repeated_call_is_not_run_again_and_the_last_call_has_no_tools() -> None:
    RUNS.clear()
    model = Scripted(requests=[])
    graph = build_agent_graph(_agent(4), FixedRegistry(model), [counted])
    state = await graph.ainvoke({"messages": [HumanMessage("look it up")]})
    assert RUNS == ["same"], "the repeat returned the earlier result instead of running again"
    repeat = [m for m in state["messages"] if isinstance(m, ToolMessage)][-1]
    assert "already called this tool" in repeat.content
    final = state["messages"][-1]
    assert final.content == "Here is what I found."
    assert "step_limit_reached" not in state.get("context_variables", {})
    last_request = model.requests[-1]
    assert not any(isinstance(m, ToolMessage) for m in last_request)
    assert "result for same" in str(last_request[-1].content)


async def test_an_agent_can_require_a_tool_call_before_answering() -> None:
    RUNS.clear()
    config = _agent(3).config.model_copy(update={"require_tool_call": True})
    agent = LoadedAgent(config, "You loop.", Path("looper.yaml"))
    graph = build_agent_graph(agent, FixedRegistry(Scripted(requests=[], lazy=True)), [counted])
    state = await graph.ainvoke({"messages": [HumanMessage("what is my balance?")]})
    assert RUNS == ["same"]
    assert state["messages"][-1].content == "Here is what I found."


class Varies(Scripted):
    """Calls `hand_over` with a different reason each time."""

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        self.requests.append(list(messages))
        if not self.tools_bound:
            return ChatResult(
                generations=[ChatGeneration(message=AIMessage("A person will help."))]
            )
        n = len(self.requests)
        call = {"name": "hand_over", "args": {"reason": f"reason {n}"}, "id": f"h{n}"}
        return ChatResult(generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))])


HANDED: list[str] = []


@tool
def hand_over(reason: str) -> str:
    """Hand the conversation to a person."""
    HANDED.append(reason)
    return "ESCALATED: a person will reply."


async def test_a_once_per_turn_tool_runs_once_whatever_the_arguments() -> None:
    HANDED.clear()
    hand_over.metadata = {"once_per_turn": True}
    graph = build_agent_graph(_agent(4), FixedRegistry(Varies(requests=[])), [hand_over])
    state = await graph.ainvoke({"messages": [HumanMessage("a person please")]})
    assert HANDED == ["reason 1"]
    assert state["messages"][-1].content == "A person will help."
