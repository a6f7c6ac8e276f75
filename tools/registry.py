"""One registry of tools by name: the core's tools and a business's plug-ins register the same way.

An agent config lists tool names; the toolkit builds each through its factory with a `ToolEnv`
(the agent's tool settings and templates, and the services a deployment provides).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool


@dataclass(frozen=True)
class ToolEnv:
    """What a tool factory gets: per agent settings and templates, per deployment services."""

    agent_id: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    services: Mapping[str, Any] = field(default_factory=dict)

    def template(self, key: str, language: str, **values: Any) -> str:
        """The agent's template `key` in `language` (English as fallback), filled in."""
        texts = self.templates.get(key) or {}
        text = texts.get(language) or texts.get("en")
        if text is None:
            raise KeyError(f"agent {self.agent_id}: no template {key!r}")
        return text.format(**values)


ToolFactory = Callable[[ToolEnv], BaseTool]


class UnknownToolError(KeyError):
    pass


@dataclass
class ToolRegistry:
    """Tool factories by name."""

    factories: dict[str, ToolFactory] = field(default_factory=dict)

    def register(self, name: str, factory: ToolFactory) -> None:
        if name in self.factories:
            raise ValueError(f"tool {name!r} is already registered")
        self.factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self.factories)

    def build(self, name: str, env: ToolEnv) -> BaseTool:
        if name not in self.factories:
            raise UnknownToolError(name)
        return self.factories[name](env)


__all__ = ["ToolEnv", "ToolFactory", "ToolRegistry", "UnknownToolError"]
