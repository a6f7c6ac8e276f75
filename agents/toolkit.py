"""Turns an agent config's tool names, knowledge bases and integrations into LangChain tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from redis.exceptions import RedisError

from agents.loader import LoadedAgent
from agents.schema import AgentConfigError, KnowledgeBaseRef
from tools import (
    ApiIntegrationConfig,
    BedrockKnowledgeBase,
    KnowledgeBase,
    LocalKnowledgeBase,
    ServiceActions,
    build_api_tools,
    escalation_tool,
    format_passages,
)

KB_TOOL = "search_knowledge_base"


@dataclass
class Toolkit:
    """Everything tools need: the customer store, Redis for local KBs, the integrations."""

    service_actions: ServiceActions | None = None
    redis: Any = None
    integrations: dict[str, ApiIntegrationConfig] = field(default_factory=dict)
    region: str = "us-east-1"
    _bases: dict[str, KnowledgeBase] = field(default_factory=dict)
    _api_tools: dict[str, list[BaseTool]] = field(default_factory=dict)

    def knowledge_base(self, ref: KnowledgeBaseRef) -> KnowledgeBase:
        if ref.id not in self._bases:
            if ref.backend == "bedrock":
                assert ref.bedrock_kb_id is not None
                self._bases[ref.id] = BedrockKnowledgeBase(ref.id, ref.bedrock_kb_id, self.region)
            else:
                if self.redis is None:
                    raise AgentConfigError(f"knowledge base {ref.id}: local backend needs Redis")
                self._bases[ref.id] = LocalKnowledgeBase(self.redis, ref.id)
        return self._bases[ref.id]

    def tools_for(self, agent: LoadedAgent) -> list[BaseTool]:
        config = agent.config
        service_tools = (
            {t.name: t for t in self.service_actions.tools()} if self.service_actions else {}
        )
        tools: list[BaseTool] = []
        for position, name in enumerate(config.tools):
            if name == KB_TOOL:
                if not config.knowledge_bases:
                    raise AgentConfigError(
                        f"{agent.path}: tools.{position}: {KB_TOOL} needs knowledge_bases"
                    )
                tools.append(self._kb_tool(config.knowledge_bases))
            elif name == "escalate_to_human":
                tools.append(escalation_tool())
            elif name in service_tools:
                tools.append(service_tools[name])
            else:
                known = sorted({KB_TOOL, "escalate_to_human", *service_tools})
                raise AgentConfigError(
                    f"{agent.path}: tools.{position}: unknown tool {name!r} "
                    f"(known: {', '.join(known)})"
                )
        for position, integration in enumerate(config.api_integrations):
            if integration not in self.integrations:
                raise AgentConfigError(
                    f"{agent.path}: api_integrations.{position}: no integration named "
                    f"{integration!r} (known: {', '.join(sorted(self.integrations)) or 'none'})"
                )
            if integration not in self._api_tools:
                self._api_tools[integration] = build_api_tools(self.integrations[integration])
            tools.extend(self._api_tools[integration])
        return tools

    def _kb_tool(self, refs: list[KnowledgeBaseRef]) -> BaseTool:
        bases = [(self.knowledge_base(ref), ref.top_k) for ref in refs]

        async def search(query: str) -> str:
            passages = []
            for base, k in bases:
                passages.extend(await base.aretrieve(query, k))
            passages.sort(key=lambda p: p.score, reverse=True)
            return format_passages(passages[: max(k for _, k in bases)])

        def search_sync(query: str) -> str:
            passages = [p for base, k in bases for p in base.retrieve(query, k)]
            passages.sort(key=lambda p: p.score, reverse=True)
            return format_passages(passages[: max(k for _, k in bases)])

        built = StructuredTool.from_function(
            func=search_sync,
            coroutine=search,
            name=KB_TOOL,
            description=(
                "Search the company knowledge base (plans, prices, promotions, products, "
                "troubleshooting, opening hours, contact, location). Returns passages, each "
                "with its [source: ...] to cite. query: the customer's question."
            ),
        )
        built.metadata = {"examples": self._titles(bases)}
        return built

    @staticmethod
    def _titles(bases: list[tuple[KnowledgeBase, int]]) -> list[str]:
        """Document titles, which the offline model matches questions against."""
        titles: list[str] = []
        for base, _ in bases:
            if isinstance(base, LocalKnowledgeBase):
                try:
                    titles.extend(base.titles())
                except RedisError:
                    return []  # drawing or validating graphs with no server: titles not needed
        return titles
