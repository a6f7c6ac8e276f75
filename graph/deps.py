"""What the supervisor's nodes need, built once per process and closed over by the builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents import LoadedAgent, ModelRegistry, Toolkit, build_agent_graph
from graph.router import CascadeRouter
from stores import ConversationStore, CustomerStore


@dataclass
class SupervisorDeps:
    agents: dict[str, LoadedAgent]
    registry: ModelRegistry
    toolkit: Toolkit
    router: CascadeRouter
    conversations: ConversationStore | None = None
    customers: CustomerStore | None = None
    history_summary_messages: int = 6
    _agent_graphs: dict[str, Any] = field(default_factory=dict)

    def agent_graph(self, agent_id: str) -> Any:
        """The compiled subgraph of one agent (built once)."""
        if agent_id not in self._agent_graphs:
            agent = self.agents[agent_id]
            self._agent_graphs[agent_id] = build_agent_graph(
                agent, self.registry, self.toolkit.tools_for(agent)
            )
        return self._agent_graphs[agent_id]
