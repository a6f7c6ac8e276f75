"""One builder for the supervisor graph, compiled twice: for Studio (no checkpointer, Studio brings
its own persistence) and for the server (the Redis checkpointer).

```
START -> load_context -> route -> <agent subgraph> -> escalate? -> log_conversation
                                                                    -> compact_history -> END
```
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents import AgentContext
from graph.deps import SupervisorDeps
from graph.nodes import SupervisorNodes
from graph.state import SupervisorState

SupervisorGraph = CompiledStateGraph[SupervisorState, AgentContext, Any, Any]


def build_supervisor(deps: SupervisorDeps) -> StateGraph[SupervisorState, AgentContext, Any, Any]:
    nodes = SupervisorNodes(deps)
    builder = StateGraph(SupervisorState, context_schema=AgentContext)
    builder.add_node("load_context", nodes.load_context)
    builder.add_node("route", nodes.route)
    for agent_id in deps.agents:
        builder.add_node(agent_id, deps.agent_graph(agent_id))
        builder.add_conditional_edges(agent_id, nodes.after_agent)
    builder.add_node("escalate", nodes.escalate)
    builder.add_node("log_conversation", nodes.log_conversation)
    builder.add_node("compact_history", nodes.compact_history)

    builder.add_edge(START, "load_context")
    builder.add_edge("load_context", "route")
    builder.add_conditional_edges("route", nodes.choose_agent, list(deps.agents))
    builder.add_edge("escalate", "log_conversation")
    builder.add_edge("log_conversation", "compact_history")
    builder.add_edge("compact_history", END)
    return builder


def compile_supervisor(
    deps: SupervisorDeps, checkpointer: BaseCheckpointSaver[Any] | None = None
) -> SupervisorGraph:
    """Without `checkpointer` for Studio; with the Redis saver for the server and the CLI."""
    return build_supervisor(deps).compile(checkpointer=checkpointer, name="supervisor")


def compile_single_agent(deps: SupervisorDeps, agent_id: str) -> SupervisorGraph:
    """One agent on its own, for Studio: `load_context` first, so the customer, language and
    session are known the same way as in the supervisor (no checkpointer: Studio brings its own)."""
    nodes = SupervisorNodes(deps)
    builder = StateGraph(SupervisorState, context_schema=AgentContext)
    builder.add_node("load_context", nodes.load_context)
    builder.add_node(agent_id, deps.agent_graph(agent_id))
    builder.add_edge(START, "load_context")
    builder.add_edge("load_context", agent_id)
    builder.add_edge(agent_id, END)
    return builder.compile(name=agent_id)
