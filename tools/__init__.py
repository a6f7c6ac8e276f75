"""What agents can call: knowledge-base retrieval, API integrations, service actions."""

from tools.actions import CallContext, Proposal, as_write_tool, is_write_tool, prepare_of
from tools.api import (
    ApiIntegrationConfig,
    IntegrationConfigError,
    build_api_tools,
    load_integrations,
)
from tools.escalation import ESCALATION_TOOL, escalation_tool
from tools.ingest import IngestError, ingest_path
from tools.knowledge import (
    BedrockKnowledgeBase,
    KnowledgeBase,
    LocalKnowledgeBase,
    Passage,
    format_passages,
)
from tools.language import detect_language
from tools.registry import ToolEnv, ToolFactory, ToolRegistry, UnknownToolError
from tools.service_actions import ServiceActions
from tools.text import fold, unstretched

__all__ = [
    "ESCALATION_TOOL",
    "ApiIntegrationConfig",
    "BedrockKnowledgeBase",
    "CallContext",
    "IngestError",
    "IntegrationConfigError",
    "KnowledgeBase",
    "LocalKnowledgeBase",
    "Passage",
    "Proposal",
    "ServiceActions",
    "ToolEnv",
    "ToolFactory",
    "ToolRegistry",
    "UnknownToolError",
    "as_write_tool",
    "build_api_tools",
    "detect_language",
    "escalation_tool",
    "fold",
    "format_passages",
    "ingest_path",
    "is_write_tool",
    "load_integrations",
    "prepare_of",
    "unstretched",
]
