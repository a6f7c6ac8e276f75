"""Load every agent config of a folder (`*.yaml`), checking them as a set."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agents.schema import AgentConfig, AgentConfigError, load_agent_config


@dataclass(frozen=True)
class LoadedAgent:
    config: AgentConfig
    system_prompt: str
    path: Path


def default_agents_dir() -> Path:
    """The demo business's configs, shipped with the package."""
    return Path(str(resources.files("agents") / "configs"))


def load_agents(directory: Path | None = None) -> dict[str, LoadedAgent]:
    """Every agent of `directory`, keyed by id. The fallback agent (`fallback: true`) comes last."""
    folder = Path(directory) if directory else default_agents_dir()
    if not folder.is_dir():
        raise AgentConfigError(f"{folder}: agents directory not found")
    paths = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not paths:
        raise AgentConfigError(f"{folder}: no agent configs (*.yaml)")
    agents: dict[str, LoadedAgent] = {}
    for path in paths:
        config, prompt = load_agent_config(path)
        if config.id in agents:
            raise AgentConfigError(
                f"{path}: id: {config.id!r} is already used by {agents[config.id].path.name}"
            )
        agents[config.id] = LoadedAgent(config, prompt, path)
    fallbacks = [a for a in agents.values() if a.config.fallback]
    if len(fallbacks) != 1:
        names = ", ".join(a.path.name for a in fallbacks) or "none"
        raise AgentConfigError(
            f"{folder}: fallback: exactly one agent must set `fallback: true` (found: {names})"
        )
    fallback = fallbacks[0].config.id
    return {k: v for k, v in agents.items() if k != fallback} | {fallback: agents[fallback]}


def fallback_agent_id(agents: dict[str, LoadedAgent]) -> str:
    return next(agent.config.id for agent in agents.values() if agent.config.fallback)
