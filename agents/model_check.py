"""Do the Bedrock models the agents name exist, and are they still served?

For each agent on `bedrock`, `GetInferenceProfile` (a cross-region profile id such as
`us.anthropic.claude-haiku-4-5-20251001-v1:0`) and `GetFoundationModel` (the model itself) are
asked for their status. A `LEGACY` model is a warning with its end-of-life date; a model past its
end of life, or one Bedrock does not know, is an error naming the agent file and the model.
The control plane is reached through `AWS_ENDPOINT_URL_BEDROCK` when it is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from agents.loader import LoadedAgent
from agents.schema import PROFILE_PREFIXES, AgentConfigError

log = structlog.get_logger(__name__)
NOT_FOUND = ("ResourceNotFoundException", "ValidationException")


@dataclass(frozen=True)
class ModelProblem:
    severity: Literal["warning", "error"]
    message: str


def _base_model(model_id: str) -> str:
    head, dot, rest = model_id.partition(".")
    return rest if dot and head in PROFILE_PREFIXES else model_id


def _lifecycle(client: Any, model_id: str) -> dict[str, Any]:
    details = client.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
    lifecycle: dict[str, Any] = details.get("modelLifecycle") or {}
    return lifecycle


def _when(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value or "unknown")


def _judge(where: str, model_id: str, lifecycle: dict[str, Any]) -> ModelProblem | None:
    end = lifecycle.get("endOfLifeTime")
    if isinstance(end, datetime) and end <= datetime.now(UTC):
        return ModelProblem("error", f"{where}: {model_id} reached end of life on {_when(end)}")
    if lifecycle.get("status") == "LEGACY":
        return ModelProblem(
            "warning", f"{where}: {model_id} is Legacy; end of life on {_when(end)}"
        )
    return None


def check_model(client: Any, where: str, model_id: str) -> ModelProblem | None:
    """The problem with one model id or inference profile id (None when it is active)."""
    try:
        if model_id != _base_model(model_id) or model_id.startswith("arn:"):
            profile = client.get_inference_profile(inferenceProfileIdentifier=model_id)
            if profile.get("status") != "ACTIVE":
                return ModelProblem("error", f"{where}: inference profile {model_id} not active")
        return _judge(where, model_id, _lifecycle(client, _base_model(model_id)))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if (
            code in NOT_FOUND
            or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
        ):
            return ModelProblem("error", f"{where}: Bedrock does not know model {model_id}")
        return ModelProblem("warning", f"{where}: could not check {model_id}: {code}")
    except BotoCoreError as error:
        return ModelProblem("warning", f"{where}: could not check {model_id}: {error}")


def check_models(
    agents: dict[str, LoadedAgent],
    region: str,
    client: Any = None,
    override: str | None = None,
) -> list[ModelProblem]:
    """Problems of every Bedrock model the agents use (`override`: the provider for all)."""
    if client is None:
        import boto3

        client = boto3.session.Session().client("bedrock", region_name=region)
    problems: list[ModelProblem] = []
    for agent in agents.values():
        settings = agent.config.model
        if (override or settings.provider) != "bedrock":
            continue
        model_id = settings.bedrock_model_id(settings.region or region)
        problem = check_model(client, f"{agent.path}: model.model_id", model_id)
        if problem is not None:
            problems.append(problem)
    return problems


def control_plane_reachable() -> bool:
    """False when only the runtime is pointed at a local endpoint (a stub, in tests): the control
    plane then is the real one, which such a setup never means to call."""
    return bool(os.environ.get("AWS_ENDPOINT_URL_BEDROCK")) or not os.environ.get(
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
    )


def verify_models(
    agents: dict[str, LoadedAgent], region: str, override: str | None = None
) -> list[ModelProblem]:
    """Start-up check: warnings are logged; errors stop start-up with every problem listed."""
    problems = check_models(agents, region, override=override)
    for problem in problems:
        if problem.severity == "warning":
            log.warning("model check", problem=problem.message)
    errors = [p.message for p in problems if p.severity == "error"]
    if errors:
        raise AgentConfigError("; ".join(errors))
    return problems


__all__ = [
    "ModelProblem",
    "check_model",
    "check_models",
    "control_plane_reachable",
    "verify_models",
]
