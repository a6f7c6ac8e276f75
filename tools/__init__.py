"""What agents can call: knowledge-base retrieval, API integrations, service actions."""

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
from tools.service_actions import PermissionDeniedError, ServiceActions

__all__ = [
    "ESCALATION_TOOL",
    "ApiIntegrationConfig",
    "BedrockKnowledgeBase",
    "IngestError",
    "IntegrationConfigError",
    "KnowledgeBase",
    "LocalKnowledgeBase",
    "Passage",
    "PermissionDeniedError",
    "ServiceActions",
    "build_api_tools",
    "detect_language",
    "escalation_tool",
    "format_passages",
    "ingest_path",
    "load_integrations",
]
