"""Table and bucket definitions, created idempotently (`wam db init`).

- `<prefix>conversations`: `user_id` + `timestamp`, GSI `SessionIndex` (`session_id`, `timestamp`),
  GSI `MessageTypeIndex` (`message_type`, `timestamp`), TTL on `ttl`.
- `<prefix>customers`: `id`, GSI `PhoneIndex` (`phone`) to find the customer writing on WhatsApp.
- `<prefix>service-levels`: `level`.
- `<prefix>users`: `user_id` (`whatsapp:+<wa_id>`): opt-in state, first contact (the USER entity).
- `<prefix>user-profiles`: `user_id`, GSI `CreatedDateIndex` (`created_date`): interaction stats.

A table that exists without an index of its spec gets it added (one `UpdateTable` per index).
The data bucket gets default encryption and the lifecycle rules of the data-architecture
document (`stores.retention`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import ClientError

log = structlog.get_logger(__name__)

SESSION_INDEX = "SessionIndex"
MESSAGE_TYPE_INDEX = "MessageTypeIndex"
CREATED_DATE_INDEX = "CreatedDateIndex"
PHONE_INDEX = "PhoneIndex"
TTL_ATTRIBUTE = "ttl"


@dataclass(frozen=True)
class TableSpec:
    name: str
    definition: dict[str, Any]
    ttl_attribute: str | None = None


def _gsi(name: str, hash_key: str, range_key: str | None = None) -> dict[str, Any]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}


def table_specs(prefix: str) -> list[TableSpec]:
    """Every table the product uses, under `prefix`."""
    return [
        TableSpec(
            name=f"{prefix}conversations",
            definition={
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "user_id", "AttributeType": "S"},
                    {"AttributeName": "timestamp", "AttributeType": "S"},
                    {"AttributeName": "session_id", "AttributeType": "S"},
                    {"AttributeName": "message_type", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [
                    _gsi(SESSION_INDEX, "session_id", "timestamp"),
                    _gsi(MESSAGE_TYPE_INDEX, "message_type", "timestamp"),
                ],
            },
            ttl_attribute=TTL_ATTRIBUTE,
        ),
        TableSpec(
            name=f"{prefix}customers",
            definition={
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "phone", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [_gsi(PHONE_INDEX, "phone")],
            },
        ),
        TableSpec(
            name=f"{prefix}users",
            definition={
                "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
            },
        ),
        TableSpec(
            name=f"{prefix}service-levels",
            definition={
                "KeySchema": [{"AttributeName": "level", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "level", "AttributeType": "S"}],
            },
        ),
        TableSpec(
            name=f"{prefix}user-profiles",
            definition={
                "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": "user_id", "AttributeType": "S"},
                    {"AttributeName": "created_date", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [_gsi(CREATED_DATE_INDEX, "created_date")],
            },
        ),
    ]


def ensure_tables(dynamodb: Any, prefix: str) -> list[str]:
    """Create missing tables (on-demand billing), wait until active, enable TTL. Returns created."""
    created = []
    for spec in table_specs(prefix):
        try:
            dynamodb.create_table(
                TableName=spec.name, BillingMode="PAY_PER_REQUEST", **spec.definition
            )
            created.append(spec.name)
            log.info("table created", table=spec.name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
    for spec in table_specs(prefix):
        dynamodb.get_waiter("table_exists").wait(
            TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        if spec.name not in created:
            _ensure_indexes(dynamodb, spec)
        if spec.ttl_attribute:
            _ensure_ttl(dynamodb, spec.name, spec.ttl_attribute)
    return created


def _ensure_indexes(dynamodb: Any, spec: TableSpec) -> None:
    """Add the spec's global secondary indexes that an older table lacks."""
    table = dynamodb.describe_table(TableName=spec.name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.definition.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        names = {key["AttributeName"] for key in index["KeySchema"]}
        dynamodb.update_table(
            TableName=spec.name,
            AttributeDefinitions=[
                a for a in spec.definition["AttributeDefinitions"] if a["AttributeName"] in names
            ],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        log.info("index added", table=spec.name, index=index["IndexName"])


def enable_point_in_time_recovery(dynamodb: Any, prefix: str) -> list[str]:
    """PITR on every table (real AWS: `wam db init --pitr`). Returns the tables changed."""
    changed = []
    for spec in table_specs(prefix):
        description = dynamodb.describe_continuous_backups(TableName=spec.name)
        recovery = description["ContinuousBackupsDescription"].get(
            "PointInTimeRecoveryDescription", {}
        )
        if recovery.get("PointInTimeRecoveryStatus") == "ENABLED":
            continue
        dynamodb.update_continuous_backups(
            TableName=spec.name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        changed.append(spec.name)
    return changed


def _ensure_ttl(dynamodb: Any, table: str, attribute: str) -> None:
    description = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
    )


def ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create the data bucket (KB documents, media) if missing. Returns True when created."""
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    options: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**options)
    log.info("bucket created", bucket=bucket)
    return True
