"""`python -m infra [OUTDIR]`: synthesize the stacks (no AWS call, no CDK CLI needed).

`cdk deploy` (the npm CLI) runs this through infra/cdk.json. Context: `env` (dev | prod, default
dev), `alarm_email`, `bedrock_model_id`, `turn_budget_seconds`, `max_receives`,
`secret_env_arns` (integration secrets: a JSON object, environment variable -> secret ARN),
`orchestrator` (lambda | fargate) with `worker_cpu`, `worker_memory_mb`, `worker_min_tasks`,
`worker_max_tasks`; `vpc` (true: a VPC with ElastiCache for Valkey) with `redis_node_type`;
`accounts_file` (BUSINESS_ACCOUNTS_FILE, relative to the repository) with `account_token_arns`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from infra.config import StackConfig
from infra.stack import WhatsAppStack


def config_from(app: cdk.App) -> StackConfig:
    env_name = app.node.try_get_context("env") or "dev"
    if env_name not in ("dev", "prod"):
        raise ValueError(f"context env must be dev or prod, not {env_name!r}")
    values: dict[str, object] = {"env_name": env_name}
    for key in (
        "alarm_email",
        "bedrock_model_id",
        "secret_env_arns",
        "orchestrator",
        "redis_node_type",
        "accounts_file",
        "account_token_arns",
    ):
        if (value := app.node.try_get_context(key)) is not None:
            values[key] = str(value)
    for key in (
        "turn_budget_seconds",
        "max_receives",
        "worker_cpu",
        "worker_memory_mb",
        "worker_min_tasks",
        "worker_max_tasks",
    ):
        if (value := app.node.try_get_context(key)) is not None:
            values[key] = int(value)
    if (value := app.node.try_get_context("vpc")) is not None:
        values["vpc"] = str(value).lower() in ("true", "1", "yes")  # `-c vpc=true` is a string
    if values.get("orchestrator", "lambda") not in ("lambda", "fargate"):
        raise ValueError(
            f"context orchestrator must be lambda or fargate, not {values['orchestrator']!r}"
        )
    return StackConfig(**values)  # type: ignore[arg-type]


def build_app(
    outdir: str | Path | None = None, context: dict[str, object] | None = None
) -> cdk.App:
    app = cdk.App(outdir=str(outdir) if outdir else None, context=context or {})
    config = config_from(app)
    WhatsAppStack(
        app,
        f"WhatsAppMultiagent-{config.env_name}",
        config,
    )
    return app


def main() -> None:
    outdir = sys.argv[1] if len(sys.argv) > 1 else None
    build_app(outdir).synth()
