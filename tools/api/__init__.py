"""API integrations: a business's HTTP API, described in YAML, as one tool per operation.

Modules, one concern each: `config` (the YAML configs and their loading), `arguments` (the
model's arguments: their strict schema, their validation into a confirmation question),
`templates` (sentences filled from data), `client` (the HTTP calls, retried) and `build` (the
tools).
"""

from __future__ import annotations

from tools.api.arguments import INJECTED, STATE_PARAMETERS
from tools.api.build import build_api_tools
from tools.api.client import ApiToolError
from tools.api.config import (
    ApiIntegrationConfig,
    AuthConfig,
    IntegrationConfigError,
    Operation,
    RecordCheck,
    load_integrations,
)
from tools.api.templates import fill

__all__ = [
    "INJECTED",
    "STATE_PARAMETERS",
    "ApiIntegrationConfig",
    "ApiToolError",
    "AuthConfig",
    "IntegrationConfigError",
    "Operation",
    "RecordCheck",
    "build_api_tools",
    "fill",
    "load_integrations",
]
