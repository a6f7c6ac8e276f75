"""Turns an agent config's tool names, knowledge bases and integrations into LangChain tools.

Every tool comes from one `ToolRegistry`: the core registers `search_knowledge_base` and
`escalate_to_human`; plug-ins named in an agent's `plugins` (Python modules with a
`register_tools(registry)` function, such as the `demo` business) register theirs the same way.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Annotated, Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import InjectedState
from redis.exceptions import RedisError

from agents.loader import LoadedAgent
from agents.schema import AgentConfigError, KnowledgeBaseRef
from tools import (
    ESCALATION_TOOL,
    ApiIntegrationConfig,
    BedrockKnowledgeBase,
    KnowledgeBase,
    LocalKnowledgeBase,
    ToolEnv,
    ToolRegistry,
    UnknownToolError,
    build_api_tools,
    escalation_tool,
    format_passages,
)
from tools.knowledge import Paraphrases

KB_TOOL = "search_knowledge_base"


@dataclass
class Toolkit:
    """Everything tools need: services (the customer store...), Redis for local KBs, integrations.

    `service_actions` is the former way to pass the customer store (its `.customers`).
    """

    service_actions: Any = None
    redis: Any = None
    integrations: dict[str, ApiIntegrationConfig] = field(default_factory=dict)
    region: str = "us-east-1"
    kb_namespace: str = ""  # the agents folder's knowledge bases (tenancy), "" for the demo's
    services: dict[str, Any] = field(default_factory=dict)
    registry: ToolRegistry = field(default_factory=ToolRegistry)
    _bases: dict[str, KnowledgeBase] = field(default_factory=dict)
    _plugins: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.service_actions is not None:
            self.services.setdefault("customers", self.service_actions.customers)
        if KB_TOOL not in self.registry.factories:
            self.registry.register(KB_TOOL, self._kb_tool)
        if ESCALATION_TOOL not in self.registry.factories:
            self.registry.register(ESCALATION_TOOL, lambda env: escalation_tool())

    def knowledge_base(self, ref: KnowledgeBaseRef) -> KnowledgeBase:
        if ref.id not in self._bases:
            if ref.backend == "bedrock":
                assert ref.bedrock_kb_id is not None
                self._bases[ref.id] = BedrockKnowledgeBase(ref.id, ref.bedrock_kb_id, self.region)
            else:
                if self.redis is None:
                    raise AgentConfigError(f"knowledge base {ref.id}: local backend needs Redis")
                self._bases[ref.id] = LocalKnowledgeBase(
                    self.redis, ref.id, namespace=self.kb_namespace
                )
        return self._bases[ref.id]

    def load_plugins(self, agent: LoadedAgent) -> None:
        for position, name in enumerate(agent.config.plugins):
            if name in self._plugins:
                continue
            try:
                module = importlib.import_module(name)
                module.register_tools(self.registry)
            except (ImportError, AttributeError) as error:
                raise AgentConfigError(
                    f"{agent.path}: plugins.{position}: cannot load tool plug-in {name!r} "
                    f"({type(error).__name__}: {error})"
                ) from None
            self._plugins.add(name)

    def tools_for(self, agent: LoadedAgent) -> list[BaseTool]:
        config = agent.config
        self.load_plugins(agent)
        templates: dict[str, dict[str, str]] = {
            key: {str(lang): text for lang, text in texts.items()}
            for key, texts in config.templates.items()
        }
        env = ToolEnv(
            agent_id=config.id,
            settings={
                **config.tool_settings,
                "knowledge_bases": config.knowledge_bases,
                "agent_examples": {str(k): list(v) for k, v in config.examples.items()},
            },
            templates=templates,
            services=self.services,
        )
        tools: list[BaseTool] = []
        for position, name in enumerate(config.tools):
            try:
                tools.append(self.registry.build(name, env))
            except UnknownToolError:
                known = ", ".join(self.registry.names())
                raise AgentConfigError(
                    f"{agent.path}: tools.{position}: unknown tool {name!r} (known: {known})"
                ) from None
            except (ValueError, KeyError) as error:
                raise AgentConfigError(f"{agent.path}: tools.{position}: {error}") from None
        for position, integration in enumerate(config.api_integrations):
            if integration not in self.integrations:
                raise AgentConfigError(
                    f"{agent.path}: api_integrations.{position}: no integration named "
                    f"{integration!r} (known: {', '.join(sorted(self.integrations)) or 'none'})"
                )
            tools.extend(build_api_tools(self.integrations[integration], templates=templates))
        return tools

    def _kb_tool(self, env: ToolEnv) -> BaseTool:
        refs: list[KnowledgeBaseRef] = list(env.settings.get("knowledge_bases") or [])
        if not refs:
            raise ValueError(f"{KB_TOOL} needs knowledge_bases")
        bases = [(self.knowledge_base(ref), ref.top_k) for ref in refs]
        paraphrases = Paraphrases(
            dict(env.settings.get("agent_examples") or {}),
            next((b.encoder for b, _ in bases if isinstance(b, LocalKnowledgeBase)), None),
        )

        # The conversation's language comes from the state, never from the model: passages (and
        # the paraphrase asked again) in the customer's language even when the query is short,
        # mixed ("premium plan precio?") or worded by the model in another language.
        async def search(
            query: str, language: Annotated[str, InjectedState("language")] = ""
        ) -> str:
            wanted = language or None
            passages = []
            for base, k in bases:
                passages.extend(await base.aretrieve(query, k, wanted))
            example = None if passages else paraphrases.closest(query, wanted)
            if example is not None:  # nothing found: ask again in the business's own words
                for base, k in bases:
                    passages.extend(await base.aretrieve(example, k, wanted))
            passages.sort(key=lambda p: p.score, reverse=True)
            return format_passages(passages[: max(k for _, k in bases)])

        def search_sync(
            query: str, language: Annotated[str, InjectedState("language")] = ""
        ) -> str:
            wanted = language or None
            passages = [p for base, k in bases for p in base.retrieve(query, k, wanted)]
            passages.sort(key=lambda p: p.score, reverse=True)
            return format_passages(passages[: max(k for _, k in bases)])

        built = StructuredTool.from_function(
            func=search_sync,
            coroutine=search,
            name=KB_TOOL,
            description=(
                "Search the company knowledge base (plans, prices, promotions, products, "
                "troubleshooting, opening hours, contact, location). Returns passages, each "
                "with its [source: ...]. query: the customer's question."
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
