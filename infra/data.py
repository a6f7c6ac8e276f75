"""DynamoDB tables (from stores/schema.py, the same definitions `wam db init` creates) and the
data bucket (KB documents, media, transcripts, exports) with stores/retention.py's lifecycle."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import StackConfig
from stores import retention
from stores.schema import TableSpec, table_specs

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _keys(definition: dict[str, Any], schema: list[dict[str, str]]) -> dict[str, Any]:
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    keys: dict[str, Any] = {}
    for key in schema:
        name = key["AttributeName"]
        role = "partition_key" if key["KeyType"] == "HASH" else "sort_key"
        keys[role] = dynamodb.Attribute(name=name, type=_TYPES[types[name]])
    return keys


def short_name(spec: TableSpec, prefix: str) -> str:
    return spec.name.removeprefix(prefix)


class DataStores(Construct):
    """The four tables (on demand, point-in-time recovery, TTL where the schema has one) and the
    bucket. Production keeps them when the stack is deleted; development removes them."""

    def __init__(self, scope: Construct, construct_id: str, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in table_specs(config.table_prefix):
            self.tables[short_name(spec, config.table_prefix)] = self._table(spec, removal)
        self.bucket = self._bucket(config, removal)

    def _table(self, spec: TableSpec, removal: RemovalPolicy) -> dynamodb.Table:
        definition = spec.definition
        table = dynamodb.Table(
            self,
            spec.name,
            table_name=spec.name,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=removal,
            **_keys(definition, definition["KeySchema"]),
        )
        for index in definition.get("GlobalSecondaryIndexes", []):
            table.add_global_secondary_index(
                index_name=index["IndexName"],
                projection_type=dynamodb.ProjectionType.ALL,
                **_keys(definition, index["KeySchema"]),
            )
        return table

    def _bucket(self, config: StackConfig, removal: RemovalPolicy) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Data",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=removal,
            auto_delete_objects=not config.prod,
            lifecycle_rules=lifecycle_rules(),
        )


_CLASSES = {
    "STANDARD_IA": s3.StorageClass.INFREQUENT_ACCESS,
    "ONEZONE_IA": s3.StorageClass.ONE_ZONE_INFREQUENT_ACCESS,
    "INTELLIGENT_TIERING": s3.StorageClass.INTELLIGENT_TIERING,
    "GLACIER_IR": s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
    "GLACIER": s3.StorageClass.GLACIER,
    "DEEP_ARCHIVE": s3.StorageClass.DEEP_ARCHIVE,
}


def lifecycle_rules() -> list[s3.LifecycleRule]:
    """The rules of stores/retention.py (what `wam db init` applies elsewhere), as CDK rules:
    media to IA, Glacier and Deep Archive and kept 7 years, the daily exports kept 5 years,
    analytics 3, transcripts 30 days, replaced versions 30 days."""
    return [_rule(rule) for rule in retention.lifecycle_rules()]


def _rule(rule: dict[str, Any]) -> s3.LifecycleRule:
    def days(value: int | None) -> Duration | None:
        return Duration.days(value) if value is not None else None

    transitions = [
        s3.Transition(
            storage_class=_CLASSES[t["StorageClass"]], transition_after=Duration.days(t["Days"])
        )
        for t in rule.get("Transitions", [])
    ]
    return s3.LifecycleRule(
        id=rule["ID"],
        enabled=rule.get("Status", "Enabled") == "Enabled",
        prefix=rule.get("Filter", {}).get("Prefix") or None,
        transitions=transitions or None,
        expiration=days(rule.get("Expiration", {}).get("Days")),
        noncurrent_version_expiration=days(
            rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        ),
        abort_incomplete_multipart_upload_after=days(
            rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        ),
    )
