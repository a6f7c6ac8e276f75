"""The Lambda functions, packaged from this repository as one container image (infra/Dockerfile),
each with its own role that grants only what its handler does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StackConfig
from infra.network import Network

ROOT = Path(__file__).resolve().parent.parent
# What the image never needs (the asset's hash, and its staging copy, ignore these).
EXCLUDE = [
    ".venv",
    ".git",
    ".data",
    "cdk.out",
    "**/__pycache__",
    "**/*.pyc",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".langgraph_api",
    "*.egg-info",
    "eval-results",
    "bench-results",
    "node_modules",
]

HANDLERS = {
    "whatsapp-webhook-handler": "lambdas.webhook_handler.handler",
    "message-orchestrator": "lambdas.orchestrator.handler",
    "voice-processor": "lambdas.voice_processor.handler",
    "knowledge-base-manager": "lambdas.kb_manager.handler",
    "eum-events-handler": "lambdas.eum_handler.handler",
    "daily-jobs": "lambdas.daily_jobs.handler",
    "handoff-timers": "lambdas.handoff_timers.handler",
}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]
    reserved_concurrency: int | None = None


class Image(Construct):
    """The one image built from this repository (infra/Dockerfile): each function runs it with
    its handler as CMD, the Fargate workers with `wam worker`. `accounts_dir`: a folder of the
    repository (the business accounts file and the agents folders it names) built in at
    /opt/wam/accounts. `cdk synth` only records the asset (no Docker); `cdk deploy` builds it."""

    def __init__(
        self, scope: Construct, construct_id: str, accounts_dir: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Asset",
            directory=str(ROOT),
            file="infra/Dockerfile",
            exclude=EXCLUDE,
            build_args={"ACCOUNTS_DIR": accounts_dir} if accounts_dir else None,
            platform=ecr_assets.Platform.LINUX_AMD64,
        )

    def lambda_code(self, cmd: str) -> lambda_.DockerImageCode:
        return lambda_.DockerImageCode.from_ecr(
            self.asset.repository, tag_or_digest=self.asset.image_tag, cmd=[cmd]
        )

    def container(self) -> ecs.ContainerImage:
        return ecs.ContainerImage.from_docker_image_asset(self.asset)


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        image: Image,
        network: Network | None = None,
    ) -> None:
        """`network`: the functions run in its private subnets (the VPC option)."""
        super().__init__(scope, construct_id)
        self.config = config
        self.image = image
        self.network = network
        self.functions: dict[str, lambda_.DockerImageFunction] = {}
        self.roles: dict[str, iam.Role] = {}

    def add(self, spec: FunctionSpec) -> lambda_.DockerImageFunction:
        removal = RemovalPolicy.RETAIN if self.config.prod else RemovalPolicy.DESTROY
        prefix = f"wam-{self.config.env_name}"
        role = iam.Role(
            self,
            f"{spec.name}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: only what its handler does",
        )
        log_group = logs.LogGroup(
            self,
            f"{spec.name}-logs",
            log_group_name=f"/aws/lambda/{prefix}-{spec.name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=removal,
        )
        log_group.grant_write(role)
        function = lambda_.DockerImageFunction(
            self,
            spec.name,
            function_name=f"{prefix}-{spec.name}",
            code=self.image.lambda_code(HANDLERS[spec.name]),
            role=role,
            log_group=log_group,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment=spec.environment,
            reserved_concurrent_executions=spec.reserved_concurrency,
            architecture=lambda_.Architecture.X86_64,
            tracing=lambda_.Tracing.ACTIVE,
            vpc=self.network.vpc if self.network else None,
            vpc_subnets=self.network.subnets if self.network else None,
            security_groups=[self.network.apps] if self.network else None,
        )
        self.functions[spec.name] = function
        self.roles[spec.name] = role
        return function


def bedrock_statements(stack: Stack) -> list[iam.PolicyStatement]:
    """Converse on foundation models and inference profiles, retrieval from knowledge bases, and
    the start-up check that each configured model exists."""
    region, account = stack.region, stack.account
    return [
        iam.PolicyStatement(
            actions=[
                "bedrock:InvokeModel",
                "bedrock:InvokeModelWithResponseStream",
                "bedrock:GetInferenceProfile",
                "bedrock:GetFoundationModel",
            ],
            resources=[
                "arn:aws:bedrock:*::foundation-model/*",
                f"arn:aws:bedrock:{region}:{account}:inference-profile/*",
            ],
        ),
        iam.PolicyStatement(
            actions=["bedrock:Retrieve"],
            resources=[f"arn:aws:bedrock:{region}:{account}:knowledge-base/*"],
        ),
    ]


def social_messaging_statement(stack: Stack) -> iam.PolicyStatement:
    """Replies, read marks and media of the numbers linked to End User Messaging Social."""
    return iam.PolicyStatement(
        actions=[
            "social-messaging:SendWhatsAppMessage",
            "social-messaging:GetWhatsAppMessageMedia",
        ],
        resources=[f"arn:aws:social-messaging:{stack.region}:{stack.account}:phone-number-id/*"],
    )


def transcribe_statement() -> iam.PolicyStatement:
    # Transcribe's job actions take no resource-level restriction.
    return iam.PolicyStatement(
        actions=["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"],
        resources=["*"],
    )
