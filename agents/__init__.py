"""Domain agents: config schema and files, the subgraph factory, and the model providers."""

from agents.factory import bounded_history, build_agent_graph, effective_model_settings
from agents.limits import ModelCallLimiter, model_calls
from agents.loader import LoadedAgent, default_agents_dir, fallback_agent_id, load_agents
from agents.offline import OFFLINE_MODEL_ID, OfflineChatModel
from agents.providers import ModelRegistry, merge_consecutive_assistant_messages
from agents.schema import AgentConfig, AgentConfigError, ModelSettings, load_agent_config
from agents.state import AgentContext, AgentState, messages_this_turn, model_calls_this_turn
from agents.toolkit import KB_TOOL, Toolkit

__all__ = [
    "KB_TOOL",
    "OFFLINE_MODEL_ID",
    "AgentConfig",
    "AgentConfigError",
    "AgentContext",
    "AgentState",
    "LoadedAgent",
    "ModelCallLimiter",
    "ModelRegistry",
    "ModelSettings",
    "OfflineChatModel",
    "Toolkit",
    "bounded_history",
    "build_agent_graph",
    "default_agents_dir",
    "effective_model_settings",
    "fallback_agent_id",
    "load_agent_config",
    "load_agents",
    "merge_consecutive_assistant_messages",
    "messages_this_turn",
    "model_calls",
    "model_calls_this_turn",
]
