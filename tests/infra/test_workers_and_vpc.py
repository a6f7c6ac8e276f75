"""The CDK app's options, synthesized once: `orchestrator=fargate` (wam worker on ECS Fargate
instead of the orchestrator Lambda), `vpc=true` (ElastiCache for Valkey, everything in the VPC),
and `accounts_file` (the business accounts built into the image, their tokens from Secrets
Manager)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if shutil.which("node") is None:  # jsii runs the CDK's constructs on Node.js
    pytest.skip("the CDK needs Node.js (node) on PATH", allow_module_level=True)
cdk = pytest.importorskip("aws_cdk", reason="aws-cdk-lib is a dev dependency (make test)")
from aws_cdk.assertions import Match, Template  # noqa: E402

from infra import StackConfig, WhatsAppStack, build_app  # noqa: E402
from infra.accounts import deployed_accounts  # noqa: E402
from infra.functions import ROOT  # noqa: E402

ACCOUNTS = "infra/example-accounts/accounts.yaml"
TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme-token-AbCdEf"
BILLING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:billing-AbCdEf"


@pytest.fixture(scope="module")
def fargate(tmp_path_factory) -> Iterator[tuple[Template, dict[str, Any], Path]]:
    outdir = tmp_path_factory.mktemp("cdk-fargate")
    context: dict[str, object] = {
        "aws:cdk:disable-asset-staging": True,
        "env": "dev",
        "orchestrator": "fargate",
        "vpc": "true",
        "worker_min_tasks": 2,
        "worker_max_tasks": 6,
        "accounts_file": ACCOUNTS,
        "account_token_arns": json.dumps({"ACME_ACCESS_TOKEN": TOKEN_ARN}),
        "secret_env_arns": json.dumps({"BILLING_API_TOKEN": BILLING_ARN}),
    }
    app = build_app(outdir, context)
    assembly = app.synth()
    stack = next(c for c in app.node.children if isinstance(c, WhatsAppStack))
    directory = Path(assembly.directory)
    assets = json.loads((directory / f"{stack.stack_name}.assets.json").read_text())
    yield Template.from_stack(stack), assets, directory / f"{stack.stack_name}.template.json"


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def _container(template: Template) -> dict[str, Any]:
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    found: dict[str, Any] = container
    return found


def _env(variables: list[dict[str, Any]]) -> dict[str, Any]:
    return {v["Name"]: v["Value"] for v in variables}


def _lambda(template: Template, handler: str) -> dict[str, Any]:
    for function in resources(template, "AWS::Lambda::Function").values():
        if function["Properties"].get("ImageConfig", {}).get("Command") == [handler]:
            found: dict[str, Any] = function["Properties"]
            return found
    raise AssertionError(f"no function runs {handler}")


def _statements(template: Template, role_fragment: str) -> list[dict[str, Any]]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if role_fragment in json.dumps(policy["Properties"]["Roles"]):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions.update([action] if isinstance(action, str) else action)
    return actions


def test_workers_replace_the_orchestrator_lambda_and_never_prepare(fargate) -> None:
    template, _, _ = fargate
    commands = [
        f["Properties"].get("ImageConfig", {}).get("Command")
        for f in resources(template, "AWS::Lambda::Function").values()
    ]
    assert ["lambdas.orchestrator.handler"] not in commands
    assert ["lambdas.handoff_timers.handler"] not in commands  # the workers run the timers
    schedules = [
        r["Properties"].get("ScheduleExpression")
        for r in resources(template, "AWS::Events::Rule").values()
    ]
    assert "rate(1 minute)" not in schedules
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping")
    assert "voiceprocessor" in mapping  # the voice notes' queue is the only one a function reads
    container = _container(template)
    assert container["EntryPoint"] == ["/var/task/bin/wam"]
    assert container["Command"][0] == "worker"
    env = _env(container["Environment"])
    assert env["PREPARE_ON_START"] == "false" and env["QUEUE_BACKEND"] == "sqs"
    assert env["SQS_QUEUE_URL"]["Ref"].startswith("QueuesInbound")
    assert int(env["SHUTDOWN_GRACE_SECONDS"]) < container["StopTimeout"] <= 120
    assert "WHATSAPP_ACCESS_TOKEN_ARN" in env and "WHATSAPP_ACCESS_TOKEN" not in env
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "LaunchType": "FARGATE",
            "DeploymentConfiguration": Match.object_like(
                {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}
            ),
            "NetworkConfiguration": {
                "AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})
            },
        },
    )


def test_the_task_role_may_answer_the_queue_and_nothing_more(fargate) -> None:
    template, _, _ = fargate
    statements = _statements(template, "Workersworkerrole")
    actions = _actions(statements)
    assert {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "bedrock:InvokeModel",
        "dynamodb:PutItem",
        "social-messaging:SendWhatsAppMessage",
    } <= actions
    assert "sqs:SendMessage" not in actions
    preparing = ("dynamodb:CreateTable", "dynamodb:UpdateT", "s3:CreateBucket", "s3:PutBucket")
    assert not any(a.startswith((*preparing, "s3:PutLifecycle", "iam:")) for a in actions)
    secrets = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert sorted(r for s in secrets for r in s["Resource"]) == sorted([BILLING_ARN, TOKEN_ARN])
    assert all(s["Action"] not in ("*", ["*"]) for s in statements)


def test_the_workers_scale_on_the_backlog_and_the_oldest_message(fargate) -> None:
    template, _, _ = fargate
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 2, "MaxCapacity": 6, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    adjustments = sorted(
        step["ScalingAdjustment"]
        for p in policies.values()
        for step in p["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
    )
    assert adjustments[0] == -1 and adjustments[-1] == 2
    alarms = json.dumps(resources(template, "AWS::CloudWatch::Alarm"))
    for metric in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
    ):
        assert metric in alarms


def test_worker_alarms_cover_cpu_memory_and_missing_tasks(fargate) -> None:
    template, _, _ = fargate
    alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
    service = [
        a["Properties"]
        for a in alarms
        if a["Properties"].get("Namespace") == "AWS/ECS"
        and a["Properties"]["MetricName"] in ("CPUUtilization", "MemoryUtilization")
    ]
    assert {(a["MetricName"], a["Statistic"]) for a in service} == {
        ("CPUUtilization", "Average"),
        ("MemoryUtilization", "Average"),
        ("CPUUtilization", "SampleCount"),
    }
    (none_running,) = [a for a in service if a["Statistic"] == "SampleCount"]
    assert none_running["ComparisonOperator"] == "LessThanThreshold"
    assert none_running["TreatMissingData"] == "breaching"
    errors = [a for a in alarms if a["Properties"].get("MetricName") == "Errors"]
    assert len(errors) == 5  # the functions; the orchestrator is the workers now
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_the_vpc_option_puts_valkey_and_everything_in_private_subnets(fargate) -> None:
    template, _, _ = fargate
    assert "RedisUrl" not in template.to_json().get("Parameters", {})
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "Engine": "valkey",
            "EngineVersion": Match.string_like_regexp(r"^9\."),
            "TransitEncryptionEnabled": True,
            "AtRestEncryptionEnabled": True,
        },
    )
    (ingress,) = resources(template, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["FromPort"] == ingress["Properties"]["ToPort"] == 6379
    assert "SourceSecurityGroupId" in ingress["Properties"]
    redis_url = _env(_container(template)["Environment"])["REDIS_URL"]
    assert "PrimaryEndPoint.Address" in json.dumps(redis_url)
    for handler in ("lambdas.webhook_handler.handler", "lambdas.voice_processor.handler"):
        function = _lambda(template, handler)
        assert function["VpcConfig"]["SubnetIds"], handler
        assert function["Environment"]["Variables"]["REDIS_URL"] == redis_url
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints.values()])
    assert ".s3" in services and ".dynamodb" in services
    assert len(resources(template, "AWS::EC2::NatGateway")) == 1
    template.has_output("RedisEndpoint", {})


def test_accounts_are_built_into_the_one_image_and_tokens_come_from_secrets(fargate) -> None:
    template, assets, _ = fargate
    images = assets["dockerImages"]
    assert len(images) == 1, "the functions and the workers share one image"
    (image,) = images.values()
    assert image["source"]["dockerBuildArgs"] == {"ACCOUNTS_DIR": "infra/example-accounts"}
    in_image = "/opt/wam/accounts/accounts.yaml"
    webhook = _lambda(template, "lambdas.webhook_handler.handler")["Environment"]["Variables"]
    assert webhook["BUSINESS_ACCOUNTS_FILE"] == in_image
    assert "SECRET_ENV_ARNS" not in webhook  # it loads the accounts without their tokens
    assert TOKEN_ARN not in json.dumps(_statements(template, "whatsappwebhookhandlerrole"))
    voice = _lambda(template, "lambdas.voice_processor.handler")["Environment"]["Variables"]
    assert json.loads(voice["SECRET_ENV_ARNS"]) == {"ACME_ACCESS_TOKEN": TOKEN_ARN}
    worker = _env(_container(template)["Environment"])
    assert worker["BUSINESS_ACCOUNTS_FILE"] == in_image
    assert json.loads(worker["SECRET_ENV_ARNS"]) == {
        "ACME_ACCESS_TOKEN": TOKEN_ARN,
        "BILLING_API_TOKEN": BILLING_ARN,
    }


def test_an_accounts_file_whose_token_has_no_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="ACME_ACCESS_TOKEN has no secret"):
        deployed_accounts(StackConfig(accounts_file=ACCOUNTS), ROOT)
    with pytest.raises(ValueError, match="folder of its own"):
        deployed_accounts(StackConfig(accounts_file="README.md"), ROOT)
    with pytest.raises(ValueError, match="needs accounts_file"):
        deployed_accounts(StackConfig(account_token_arns="{}"), ROOT)


def test_workers_without_the_vpc_option_get_public_addresses_and_no_nat() -> None:
    """Fargate needs a VPC even without the option: public subnets only, no NAT gateway."""
    from aws_cdk import Stack

    from infra.network import Network

    stack = Stack(cdk.App(), "NetworkOnly")
    network = Network(stack, "Network", StackConfig(), private=False)
    template = Template.from_stack(stack)
    assert network.assign_public_ip
    assert not resources(template, "AWS::EC2::NatGateway")
    assert all(
        s["Properties"]["MapPublicIpOnLaunch"]
        for s in resources(template, "AWS::EC2::Subnet").values()
    )


def test_cfn_lint_passes(fargate) -> None:
    from cfnlint.api import ManualArgs, lint_file

    _, _, path = fargate
    matches = lint_file(Path(path), config=ManualArgs(ignore_checks=["W3005"]))
    assert not matches, "\n".join(str(m) for m in matches)
