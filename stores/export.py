"""The daily Parquet export of the conversation log (`wam export conversations --date`).

`s3://<bucket>/conversations/year=YYYY/month=MM/day=DD/conversations.parquet` holds the day's
messages of every business account; with an account, `conversations/account=<phone_number_id>/
year=YYYY/month=MM/day=DD/conversations.parquet` holds only that account's (tenancy). Rows are
sorted by (`user_id`, `timestamp`), so exporting a day again writes the same rows (idempotent).

Schema (`EXPORT_COLUMNS`): `user_id`, `timestamp` (ISO-8601 UTC), `session_id`, `message_id`,
`business_account_id`, `direction` (inbound/outbound/internal), `role`, `message_type`,
`content`, `agent_id`, `model_id`, `confidence_score` (double, the router's confidence),
`processing_time_ms` (int64), `tokens_used` (int64), `status`, `escalation_triggered` (bool),
`language`, `intent`, `handoff_state`, `tools` (list<string>), `metadata` (JSON text).

The day is read with one filtered Scan of the conversations table (the log keeps 30 days; a
daily job reads it once a day).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from stores.codec import from_item

EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("user_id", "string"),
    ("timestamp", "string"),
    ("session_id", "string"),
    ("message_id", "string"),
    ("business_account_id", "string"),
    ("direction", "string"),
    ("role", "string"),
    ("message_type", "string"),
    ("content", "string"),
    ("agent_id", "string"),
    ("model_id", "string"),
    ("confidence_score", "float64"),
    ("processing_time_ms", "int64"),
    ("tokens_used", "int64"),
    ("status", "string"),
    ("escalation_triggered", "bool"),
    ("language", "string"),
    ("intent", "string"),
    ("handoff_state", "string"),
    ("tools", "list<string>"),
    ("metadata", "string"),
]


def export_key(day: date, account: str | None = None) -> str:
    tenant = f"account={account}/" if account else ""
    return (
        f"conversations/{tenant}year={day.year:04d}/month={day.month:02d}/day={day.day:02d}/"
        "conversations.parquet"
    )


def arrow_schema() -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "float64": pa.float64(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
    }
    return pa.schema([(name, types[kind]) for name, kind in EXPORT_COLUMNS])


def day_items(dynamodb: Any, table: str, day: date) -> list[dict[str, Any]]:
    """Every logged message of `day` (UTC), guard items left out."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(#t, :d) AND begins_with(user_id, :w)",
        ExpressionAttributeNames={"#t": "timestamp"},
        ExpressionAttributeValues={":d": {"S": day.isoformat()}, ":w": {"S": "whatsapp:"}},
    ):
        items += [from_item(item) for item in page["Items"]]
    return items


def to_row(item: dict[str, Any], default_account: str | None) -> dict[str, Any]:
    metadata = item.get("metadata") or {}
    confidence = item.get("confidence_score", metadata.get("route_confidence"))
    tools = metadata.get("tools")
    row = {name: item.get(name) for name, _ in EXPORT_COLUMNS}
    row.update(
        business_account_id=item.get("business_account_id") or default_account,
        confidence_score=float(confidence) if isinstance(confidence, int | float) else None,
        escalation_triggered=bool(item.get("escalation_triggered", False)),
        language=metadata.get("language"),
        intent=metadata.get("intent"),
        handoff_state=metadata.get("handoff_state"),
        tools=[str(t) for t in tools] if isinstance(tools, list) else [],
        metadata=json.dumps(metadata, sort_keys=True, default=str),
    )
    return row


@dataclass(frozen=True)
class ExportResult:
    bucket: str
    key: str
    rows: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def export_conversations(
    dynamodb: Any,
    s3: Any,
    *,
    table: str,
    bucket: str,
    day: date,
    account: str | None = None,
    default_account: str | None = None,
) -> ExportResult:
    """Write the day's Parquet file (all accounts, or `account`'s only); returns where."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [to_row(item, default_account) for item in day_items(dynamodb, table, day)]
    if account:
        rows = [r for r in rows if r["business_account_id"] == account]
    rows.sort(key=lambda r: (r["user_id"], r["timestamp"]))
    arrow = pa.Table.from_pylist(rows, schema=arrow_schema())
    out = io.BytesIO()
    pq.write_table(arrow, out, compression="zstd")
    key = export_key(day, account)
    s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue())
    return ExportResult(bucket, key, len(rows))


def read_export(s3: Any, bucket: str, day: date, account: str | None = None) -> Any:
    """The day's export as a pyarrow Table (raises when it was never written)."""
    import pyarrow.parquet as pq

    body = s3.get_object(Bucket=bucket, Key=export_key(day, account))["Body"].read()
    return pq.read_table(io.BytesIO(body))
