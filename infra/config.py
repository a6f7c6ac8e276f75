"""What differs between deployments: the environment (dev or prod) and the numbers of the stack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EnvName = Literal["dev", "prod"]
Orchestrator = Literal["lambda", "fargate"]

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
    # Who answers the queue: the orchestrator Lambda (bursty traffic) or `wam worker` tasks on
    # ECS Fargate (steady traffic), scaled on the queue's backlog and the age of its oldest message.
    orchestrator: Orchestrator = "lambda"
    worker_cpu: int = 1024
    worker_memory_mb: int = 2048
    worker_min_tasks: int = 1
    worker_max_tasks: int = 4
    # A VPC (private subnets, one NAT gateway) with ElastiCache for Valkey (JSON and Search) in it,
    # the functions and workers inside; off: Redis is the RedisUrl parameter.
    vpc: bool = False
    redis_node_type: str = "cache.t4g.medium"
    # The business accounts file (BUSINESS_ACCOUNTS_FILE), relative to the repository root: its
    # folder is built into the image. Their access tokens: JSON, environment variable (each
    # account's access_token_env) -> Secrets Manager ARN.
    accounts_file: str | None = None
    account_token_arns: str | None = None

    @property
    def prod(self) -> bool:
        return self.env_name == "prod"

    @property
    def table_prefix(self) -> str:
        return f"{self.env_name}-"

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.turn_budget_seconds * VISIBILITY_PER_TURN_BUDGET
