"""Table and bucket definitions, created idempotently (`wam db init`).

- `<prefix>conversations`: `user_id` + `timestamp`, GSI `SessionIndex` (`session_id`, `timestamp`),
  TTL on `ttl`.
- `<prefix>customers`: `id`, GSI `PhoneIndex` (`phone`) to find the customer writing on WhatsApp.
- `<prefix>service-levels`: `level`.
- `<prefix>users`: `user_id` (`whatsapp:+<wa_id>`): opt-in state, first contact (the USER entity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import ClientError

log = structlog.get_logger(__name__)

SESSION_INDEX = "SessionIndex"
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
                ],
                "GlobalSecondaryIndexes": [_gsi(SESSION_INDEX, "session_id", "timestamp")],
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
        if spec.ttl_attribute:
            _ensure_ttl(dynamodb, spec.name, spec.ttl_attribute)
    return created


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
