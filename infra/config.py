"""What differs between deployments: the environment (dev or prod) and the numbers of the stack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EnvName = Literal["dev", "prod"]

# Lambda's recommendation for an SQS event source: the queue's visibility timeout at least six
# times the function's timeout, so a batch Lambda is still retrying is never handed out twice.
VISIBILITY_PER_TURN_BUDGET = 6


@dataclass(frozen=True)
class StackConfig:
    env_name: EnvName = "dev"
    # One customer turn (burst wait, model calls, tools, send) must finish within this.
    turn_budget_seconds: int = 120
    # Receives before a message goes to the dead-letter queue (the app reads the redrive policy).
    max_receives: int = 5
    burst_window_ms: int = 800
    orchestrator_memory_mb: int = 1024
    webhook_memory_mb: int = 512
    # The Bedrock model whose throttling is alarmed (the demo agents' inference profile).
    bedrock_model_id: str = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    graph_api_base_url: str = "https://graph.facebook.com/v21.0"
    alarm_email: str | None = None
    # Integration secrets (JSON: environment variable -> Secrets Manager ARN) for the orchestrator.
    secret_env_arns: str | None = None

    @property
    def prod(self) -> bool:
        return self.env_name == "prod"

    @property
    def table_prefix(self) -> str:
        return f"{self.env_name}-"

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.turn_budget_seconds * VISIBILITY_PER_TURN_BUDGET
