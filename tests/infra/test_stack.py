"""The CDK app, synthesized offline (Python and Node.js through jsii; no CDK CLI, no AWS call):
assertions on the CloudFormation template, and cfn-lint over it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stores import retention
from stores.schema import table_specs

if shutil.which("node") is None:  # jsii runs the CDK's constructs on Node.js
    pytest.skip("the CDK needs Node.js (node) on PATH", allow_module_level=True)
cdk = pytest.importorskip("aws_cdk", reason="aws-cdk-lib is a dev dependency (make test)")
from aws_cdk.assertions import Match, Template  # noqa: E402

from infra import StackConfig, WhatsAppStack, build_app  # noqa: E402

# No staging copy of the repository for the image asset: the template is what is tested.
CONTEXT = {"aws:cdk:disable-asset-staging": True}
BILLING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:billing-AbCdEf"


@pytest.fixture(scope="module", params=["dev", "prod"])
def synthesized(request, tmp_path_factory) -> Iterator[tuple[str, Template, Path]]:
    outdir = tmp_path_factory.mktemp(f"cdk-{request.param}")
    context: dict[str, object] = {**CONTEXT, "env": request.param}
    if request.param == "dev":
        context["secret_env_arns"] = json.dumps({"BILLING_API_TOKEN": BILLING_ARN})
    app = build_app(outdir, context)
    assembly = app.synth()
    stack = next(c for c in app.node.children if isinstance(c, WhatsAppStack))
    path = Path(assembly.directory) / f"{stack.stack_name}.template.json"
    yield request.param, Template.from_stack(stack), path


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_the_fifo_queue_dead_letters_and_visibility_follow_the_turn_budget(synthesized) -> None:
    _, template, _ = synthesized
    config = StackConfig()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "FifoQueue": True,
            "ContentBasedDeduplication": False,
            "DeduplicationScope": "messageGroup",
            "VisibilityTimeout": config.turn_budget_seconds * 6,
            "RedrivePolicy": {
                "deadLetterTargetArn": Match.any_value(),
                "maxReceiveCount": config.max_receives,
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


def test_tables_match_the_schema_the_app_creates(synthesized) -> None:
    env, template, _ = synthesized
    tables = resources(template, "AWS::DynamoDB::Table")
    by_name = {t["Properties"]["TableName"]: t for t in tables.values()}
    for spec in table_specs(f"{env}-"):
        table = by_name[spec.name]
        props = table["Properties"]
        assert props["KeySchema"] == spec.definition["KeySchema"]
        assert sorted(props["AttributeDefinitions"], key=str) == sorted(
            spec.definition["AttributeDefinitions"], key=str
        )
        indexes = {i["IndexName"]: i["KeySchema"] for i in props.get("GlobalSecondaryIndexes", [])}
        expected = {
            i["IndexName"]: i["KeySchema"]
            for i in spec.definition.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == expected
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": spec.ttl_attribute,
                "Enabled": True,
            }
        assert table["DeletionPolicy"] == ("Retain" if env == "prod" else "Delete")


def test_the_bucket_is_encrypted_versioned_and_ages_its_data(synthesized) -> None:
    env, template, _ = synthesized
    bucket = next(iter(resources(template, "AWS::S3::Bucket").values()))
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert props["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    expected = {r["ID"]: r for r in retention.lifecycle_rules()}  # what `wam db init` applies
    assert rules.keys() == expected.keys()
    for rule_id, rule in expected.items():
        made = rules[rule_id]
        assert made.get("Prefix", "") == rule.get("Filter", {}).get("Prefix", "")
        assert made.get("ExpirationInDays") == rule.get("Expiration", {}).get("Days")
        assert [
            (t["StorageClass"], t["TransitionInDays"]) for t in made.get("Transitions", [])
        ] == [(t["StorageClass"], t["Days"]) for t in rule.get("Transitions", [])]
    media = rules["media"]
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in media["Transitions"]] == [
        ("STANDARD_IA", 30),
        ("GLACIER", 90),
        ("DEEP_ARCHIVE", 365),
    ]
    assert bucket["DeletionPolicy"] == ("Retain" if env == "prod" else "Delete")


def test_whatsapp_secrets_are_in_secrets_manager_and_functions_get_only_arns(synthesized) -> None:
    _, template, _ = synthesized
    assert len(resources(template, "AWS::SecretsManager::Secret")) == 3
    functions = {
        f["Properties"]["FunctionName"]["Fn::Join"][1][-1]
        if isinstance(f["Properties"]["FunctionName"], dict)
        else f["Properties"]["FunctionName"]: f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }
    webhook = next(p for n, p in functions.items() if n.endswith("whatsapp-webhook-handler"))
    variables = webhook["Environment"]["Variables"]
    assert set(variables) >= {"WHATSAPP_APP_SECRET_ARN", "WHATSAPP_VERIFY_TOKEN_ARN"}
    assert "WHATSAPP_APP_SECRET" not in variables and "WHATSAPP_ACCESS_TOKEN_ARN" not in variables
    assert variables["QUEUE_BACKEND"] == "sqs" and variables["REDIS_URL"] == {"Ref": "RedisUrl"}
    template.has_parameter("RedisUrl", {"NoEcho": True, "Type": "String"})


def _policy_actions(template: Template, role_fragment: str) -> set[str]:
    actions: set[str] = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_fragment not in roles:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            action = statement["Action"]
            actions.update([action] if isinstance(action, str) else action)
    return actions


def test_integration_secrets_reach_only_the_orchestrator(synthesized) -> None:
    env, template, _ = synthesized
    if env != "dev":
        pytest.skip("the dev synthesis carries an integration secret")
    orchestrator = next(
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("ImageConfig", {}).get("Command") == ["lambdas.orchestrator.handler"]
    )
    variables = orchestrator["Environment"]["Variables"]
    assert json.loads(variables["SECRET_ENV_ARNS"]) == {"BILLING_API_TOKEN": BILLING_ARN}
    granted = [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if BILLING_ARN in json.dumps(p["Properties"]["PolicyDocument"])
    ]
    assert len(granted) == 1 and "messageorchestratorrole" in json.dumps(
        granted[0]["Properties"]["Roles"]
    )


def test_each_function_has_its_own_least_privilege_role(synthesized) -> None:
    _, template, _ = synthesized
    lambdas = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("PackageType") == "Image"
    ]
    roles = {json.dumps(f["Properties"]["Role"]) for f in lambdas}
    assert len(lambdas) == 7 and len(roles) == 7
    webhook = _policy_actions(template, "whatsappwebhookhandlerrole")
    orchestrator = _policy_actions(template, "messageorchestratorrole")
    kb = _policy_actions(template, "knowledgebasemanagerrole")
    assert "sqs:SendMessage" in webhook and not any(a.startswith("bedrock") for a in webhook)
    assert "sqs:ReceiveMessage" not in webhook
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "bedrock:InvokeModel"} <= orchestrator
    assert "sqs:SendMessage" not in orchestrator
    assert "bedrock:StartIngestionJob" in kb and "dynamodb:PutItem" not in kb
    assert "social-messaging:SendWhatsAppMessage" in orchestrator
    assert "social-messaging:SendWhatsAppMessage" not in webhook
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Action"] not in ("*", ["*"])


def test_alarms_cover_errors_latency_dead_letters_waiting_and_throttling(synthesized) -> None:
    _, template, _ = synthesized
    alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
    metrics = sorted(a["Properties"].get("MetricName", "") for a in alarms)
    assert metrics.count("Errors") == 7
    for name in (
        "Latency",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "InvocationThrottles",
    ):
        assert name in metrics
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_the_http_api_routes_the_webhook(synthesized) -> None:
    _, template, _ = synthesized
    routes = {
        r["Properties"]["RouteKey"]
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {"GET /webhook", "POST /webhook"}
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "DefaultRouteSettings": {"ThrottlingRateLimit": Match.any_value()},
        },
    )


def test_end_user_messaging_events_reach_their_handler(synthesized) -> None:
    _, template, _ = synthesized
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "lambda"})
    template.has_output("EumEventsTopic", {})


def test_the_daily_export_and_analytics_run_on_a_schedule(synthesized) -> None:
    _, template, _ = synthesized
    template.has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "cron(30 2 * * ? *)", "State": "ENABLED"}
    )


def test_the_handoff_timers_run_every_minute_with_only_what_they_touch(synthesized) -> None:
    """One pass a minute (no retry: the next minute is one); Redis is the parameter, the changes
    go to the conversations log, the messages out with the access token."""
    _, template, _ = synthesized
    (timers,) = [
        (name, f["Properties"])
        for name, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("ImageConfig", {}).get("Command")
        == ["lambdas.handoff_timers.handler"]
    ]
    name, function = timers
    variables = function["Environment"]["Variables"]
    assert variables["REDIS_URL"] == {"Ref": "RedisUrl"}
    assert "WHATSAPP_ACCESS_TOKEN_ARN" in variables
    assert "WHATSAPP_APP_SECRET_ARN" not in variables
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(1 minute)"
    ]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [name, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if "handofftimersrole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = _policy_actions(template, "handofftimersrole")
    assert {"dynamodb:PutItem", "dynamodb:GetItem", "secretsmanager:GetSecretValue"} <= actions
    assert "social-messaging:SendWhatsAppMessage" in actions
    assert not any(a.startswith(("sqs:", "bedrock:", "s3:", "transcribe:")) for a in actions)
    assert "social-messaging:GetWhatsAppMessageMedia" not in actions
    tables = {
        json.dumps(statement["Resource"])
        for statement in statements
        if any(a.startswith("dynamodb:") for a in _listed(statement["Action"]))
    }
    assert tables and all("conversations" in t for t in tables), tables
    secrets = {
        json.dumps(statement["Resource"])
        for statement in statements
        if "secretsmanager:GetSecretValue" in _listed(statement["Action"])
    }
    assert len(secrets) == 1 and "accesstoken" in secrets.pop()
    alarmed = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
        and a["Properties"]["Dimensions"][0]["Value"] == {"Ref": name}
    ]
    assert len(alarmed) == 1


def _listed(action: str | list[str]) -> list[str]:
    return [action] if isinstance(action, str) else action


def test_cfn_lint_passes(synthesized) -> None:
    from cfnlint.api import ManualArgs, lint_file

    _, _, path = synthesized
    # W3005: the CDK adds DependsOn on a role that a GetAtt already implies (harmless, CDK's own).
    matches = lint_file(Path(path), config=ManualArgs(ignore_checks=["W3005"]))
    assert not matches, "\n".join(str(m) for m in matches)


def _may(template: Template, role_fragment: str, action: str, objects: str) -> bool:
    """Whether a role's policies allow `action` on the data bucket's keys `objects`."""
    for policy in resources(template, "AWS::IAM::Policy").values():
        if role_fragment not in json.dumps(policy["Properties"]["Roles"]):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            if action in ([actions] if isinstance(actions, str) else actions) and (
                f"/{objects}" in json.dumps(statement.get("Resource"))
            ):
                return True
    return False


def test_functions_storing_media_may_index_it_under_its_sender(synthesized) -> None:
    """The media index (stores.media_index) is how an erasure finds a person's media; End User
    Messaging's staged copies are deleted once stored."""
    _, template, _ = synthesized
    for role in ("messageorchestratorrole", "voiceprocessorrole"):
        assert _may(template, role, "s3:PutObject", "media-index/*"), role
    assert _may(template, "messageorchestratorrole", "s3:DeleteObject*", "media/eum/*")
    assert not _may(template, "whatsappwebhookhandlerrole", "s3:PutObject", "media-index/*")
