"""DynamoDB tables (from stores/schema.py, the same definitions `wam db init` creates) and the
data bucket (KB documents, media, transcripts) with the data-architecture document's lifecycle."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import StackConfig
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


def lifecycle_rules() -> list[s3.LifecycleRule]:
    """Media: IA at 30 days, Glacier at 90, Deep Archive at 365, kept 7 years; conversation
    archives: IA at 7 days, Glacier at 30, kept 5 years; voice-note transcripts: 30 days;
    replaced versions: 30 days."""

    def move(days: int, storage: s3.StorageClass) -> s3.Transition:
        return s3.Transition(storage_class=storage, transition_after=Duration.days(days))

    return [
        s3.LifecycleRule(
            id="media",
            prefix="media/",
            transitions=[
                move(30, s3.StorageClass.INFREQUENT_ACCESS),
                move(90, s3.StorageClass.GLACIER),
                move(365, s3.StorageClass.DEEP_ARCHIVE),
            ],
            expiration=Duration.days(7 * 365),
        ),
        s3.LifecycleRule(
            id="conversations",
            prefix="conversations/",
            transitions=[
                move(7, s3.StorageClass.INFREQUENT_ACCESS),
                move(30, s3.StorageClass.GLACIER),
            ],
            expiration=Duration.days(5 * 365),
        ),
        s3.LifecycleRule(id="transcripts", prefix="transcripts/", expiration=Duration.days(30)),
        s3.LifecycleRule(
            id="old-versions",
            noncurrent_version_expiration=Duration.days(30),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        ),
    ]
