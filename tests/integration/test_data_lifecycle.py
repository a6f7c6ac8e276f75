"""The data lifecycle on moto over HTTP: a seeded day of conversations exported to Parquet (read
back with pyarrow and DuckDB), the daily analytics equal to figures computed here on our own,
tenancy of both, profiles, the MessageTypeIndex, bucket lifecycle and encryption from `wam db init`,
and the erasure of a person from a versioned export."""

from __future__ import annotations

import io
import json
import random
import subprocess
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import boto3
import duckdb
import httpx
import numpy
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stores import (
    ConversationMessage,
    ProfileStore,
    enable_point_in_time_recovery,
    ensure_bucket,
    ensure_tables,
    format_timestamp,
    lifecycle_rules,
    whatsapp_user_id,
)
from stores.analytics import (
    athena_statements,
    athena_table_ddl,
    compute_daily,
    compute_daily_athena,
    metrics_key,
)
from stores.aws import aws_client
from stores.erasure import PersonalData
from stores.export import export_conversations, export_key, read_export
from stores.schema import MESSAGE_TYPE_INDEX, table_specs
from tests.integration.conftest import WAM, new_wa_id, wam_env

pytestmark = pytest.mark.integration
DAY = date(2024, 1, 15)
OWNER, OTHER = "100000000000001", "200000000000002"
AGENTS = ["sales", "billing", "device_support", "general"]
INTENTS = ["pricing", "invoice", "wifi", "hours", "refund"]


def _seed(stores: Any) -> list[dict[str, Any]]:
    """A day of turns for eight customers in two accounts; returns what was written."""
    rng = random.Random(13)
    written: list[dict[str, Any]] = []
    users = [(new_wa_id(), OWNER if n < 5 else OTHER) for n in range(8)]
    for n in range(40):
        wa_id, account = users[n % len(users)]
        at = datetime(2024, 1, 15, rng.randrange(24), rng.randrange(60), 0, tzinfo=UTC)
        agent, language = rng.choice(AGENTS), rng.choice(["en", "es"])
        metadata = {"language": language, "intent": rng.choice(INTENTS)}
        metadata["route_confidence"] = round(rng.uniform(0.2, 1.0), 3)
        common = {
            "user_id": whatsapp_user_id(wa_id),
            "session_id": f"s-{wa_id}-{at.hour // 6}",
            "agent_id": agent,
            # The owner's items half without an account: they belong to the default account.
            "business_account_id": None if account == OWNER and n % 2 else account,
        }
        messages = [
            ConversationMessage(
                **common,
                timestamp=format_timestamp(at + timedelta(milliseconds=i)),
                message_id=f"wamid.seed.{uuid.uuid4().hex}",
                direction="inbound",
                role="user",
                message_type="image" if n % 7 == 0 else "text",
                content=f"question {n}.{i}",
                metadata=metadata,
            )
            for i in range(1 + n % 2)
        ]
        messages.append(
            ConversationMessage(
                **common,
                timestamp=format_timestamp(at + timedelta(seconds=2)),
                message_id=f"{messages[-1].message_id}:reply",
                direction="outbound",
                role="assistant",
                content=f"answer {n}",
                processing_time_ms=rng.randrange(200, 9000),
                tokens_used=rng.randrange(50, 500),
                escalation_triggered=n % 9 == 0,
                metadata={**metadata, "tools": ["search_kb"]},
            )
        )
        if n % 9 == 0:
            messages.append(
                ConversationMessage(
                    **common,
                    timestamp=format_timestamp(at + timedelta(seconds=3)),
                    message_id=f"handoff.{uuid.uuid4().hex}",
                    direction="internal",
                    role="system",
                    content="handoff: bot -> waiting",
                    metadata={"handoff_state": "waiting", "previous_state": "bot"},
                )
            )
        for message in messages:
            assert stores.conversations.append(message)
            row = message.model_dump()
            row["business_account_id"] = row["business_account_id"] or OWNER
            written.append(row)
    return written


def _expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    messages = [r for r in rows if r["direction"] in ("inbound", "outbound")]
    inbound = [r for r in messages if r["direction"] == "inbound"]
    replies = [r for r in messages if r["direction"] == "outbound" and r["role"] == "assistant"]
    latency = [r["processing_time_ms"] for r in replies]
    return {
        "total_messages": len(messages),
        "inbound_messages": len(inbound),
        "outbound_messages": len(messages) - len(inbound),
        "unique_users": len({r["user_id"] for r in messages}),
        "avg_confidence": mean(r["metadata"]["route_confidence"] for r in inbound),
        "avg_processing_time_ms": mean(latency),
        "turn_latency_p50_ms": float(numpy.percentile(latency, 50)),
        "turn_latency_p95_ms": float(numpy.percentile(latency, 95)),
        "escalations": sum(r["escalation_triggered"] for r in replies),
        "handoffs": sum(
            1
            for r in rows
            if r["direction"] == "internal" and r["metadata"].get("handoff_state") == "waiting"
        ),
        "per_agent": Counter(r["agent_id"] for r in messages),
        "per_language": Counter(r["metadata"]["language"] for r in messages),
        "per_hour": Counter(int(r["timestamp"][11:13]) for r in messages),
        "topics": Counter(r["metadata"]["intent"] for r in inbound),
    }


def _check(metrics: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        if isinstance(value, Counter):
            continue
        assert metrics[name] == pytest.approx(value, abs=1e-3), name
    assert {a["agent"]: a["messages"] for a in metrics["per_agent"]} == expected["per_agent"]
    assert {a["language"]: a["messages"] for a in metrics["per_language"]} == dict(
        expected["per_language"]
    )
    assert {h["hour"]: h["messages"] for h in metrics["per_hour"]} == expected["per_hour"]
    busiest = expected["topics"].most_common()
    assert [(t["topic"], t["messages"]) for t in metrics["topics"]] == sorted(
        busiest, key=lambda t: (-t[1], t[0])
    )[:10]


@pytest.fixture(scope="module")
def seeded(stores, settings) -> list[dict[str, Any]]:
    ensure_bucket(aws_client("s3", settings.aws_region), settings.s3_bucket, settings.aws_region)
    return _seed(stores)


def test_export_and_daily_analytics_match_our_own_figures(
    seeded, settings, servers, tmp_path: Path
) -> None:
    env = wam_env(settings, servers, servers.data_dir, WHATSAPP_PHONE_NUMBER_ID=OWNER)
    ran = subprocess.run(
        [*WAM, "analytics", "daily", "--date", DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr
    s3 = aws_client("s3", settings.aws_region)
    stored = json.loads(
        s3.get_object(Bucket=settings.s3_bucket, Key=metrics_key(DAY))["Body"].read()
    )
    _check(stored, _expected(seeded))
    assert stored == json.loads(ran.stdout)

    # The Parquet file reads back with pyarrow and with DuckDB, with the documented schema.
    key = "conversations/year=2024/month=01/day=15/conversations.parquet"
    assert export_key(DAY) == key
    body = s3.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == len(seeded)
    assert table.schema.field("confidence_score").type == pa.float64()
    assert table.schema.field("tools").type == pa.list_(pa.string())
    path = tmp_path / "conversations.parquet"
    path.write_bytes(body)
    counted = duckdb.sql(
        f"SELECT COUNT(*), COUNT(DISTINCT user_id) FROM read_parquet('{path}') "
        "WHERE direction <> 'internal'"
    ).fetchall()[0]
    expected = _expected(seeded)
    assert counted == (expected["total_messages"], expected["unique_users"])

    # Exporting again writes the same file (idempotent).
    again = export_conversations(
        aws_client("dynamodb", settings.aws_region),
        s3,
        table=settings.conversations_table,
        bucket=settings.s3_bucket,
        day=DAY,
        default_account=OWNER,
    )
    assert again.rows == len(seeded)
    assert s3.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read() == body


def test_an_account_sees_only_its_own_conversations(seeded, settings) -> None:
    s3 = aws_client("s3", settings.aws_region)
    for account in (OWNER, OTHER):
        result = export_conversations(
            aws_client("dynamodb", settings.aws_region),
            s3,
            table=settings.conversations_table,
            bucket=settings.s3_bucket,
            day=DAY,
            account=account,
            default_account=OWNER,
        )
        assert result.key.startswith(f"conversations/account={account}/year=2024/")
        mine = [r for r in seeded if r["business_account_id"] == account]
        table = read_export(s3, settings.s3_bucket, DAY, account)
        assert set(table.column("business_account_id").to_pylist()) == {account}
        assert table.num_rows == len(mine) == result.rows
        metrics = compute_daily(table, DAY, account)
        _check(metrics, _expected(mine))


def test_profiles_count_sessions_turns_and_topics(settings, stores) -> None:
    profiles = ProfileStore(stores.dynamodb, f"{settings.table_prefix}user-profiles")
    wa_id = new_wa_id()
    turn = {"agent_id": "billing", "language": "es", "at": "2024-02-01T10:00:00.000Z"}
    profiles.record_turn(wa_id, session_id="s1", **turn)
    profiles.record_turn(wa_id, session_id="s1", escalated=True, **turn)
    profiles.record_turn(wa_id, session_id="s2", agent_id="sales", at="2024-02-03T09:00:00.000Z")
    profile = profiles.get(wa_id)
    assert profile is not None
    assert profile["total_conversations"] == 2 and profile["total_turns"] == 3
    assert profile["escalations_count"] == 1 and profile["preferred_language"] == "es"
    assert profile["common_topics"] == {"billing": 2, "sales": 1}
    assert profile["created_date"] == "2024-02-01"
    assert profile["last_interaction"] == "2024-02-03T09:00:00.000Z"
    assert whatsapp_user_id(wa_id) in [p["user_id"] for p in profiles.created_on("2024-02-01")]


def test_message_type_index_and_confidence_on_the_log(seeded, settings, stores) -> None:
    images = stores.dynamodb.query(
        TableName=settings.conversations_table,
        IndexName=MESSAGE_TYPE_INDEX,
        KeyConditionExpression="message_type = :t AND begins_with(#t, :d)",
        ExpressionAttributeNames={"#t": "timestamp"},
        ExpressionAttributeValues={":t": {"S": "image"}, ":d": {"S": DAY.isoformat()}},
    )["Items"]
    assert len(images) == sum(1 for r in seeded if r["message_type"] == "image")
    assert all("confidence_score" in item for item in images)


def test_an_older_table_gets_the_new_index(settings) -> None:
    dynamodb = aws_client("dynamodb", settings.aws_region)
    prefix = f"old-{uuid.uuid4().hex[:6]}-"
    spec = table_specs(prefix)[0]
    definition = json.loads(json.dumps(spec.definition))
    definition["GlobalSecondaryIndexes"] = definition["GlobalSecondaryIndexes"][:1]
    definition["AttributeDefinitions"] = [
        a for a in definition["AttributeDefinitions"] if a["AttributeName"] != "message_type"
    ]
    dynamodb.create_table(TableName=spec.name, BillingMode="PAY_PER_REQUEST", **definition)
    ensure_tables(dynamodb, prefix)
    indexes = dynamodb.describe_table(TableName=spec.name)["Table"]["GlobalSecondaryIndexes"]
    assert MESSAGE_TYPE_INDEX in {i["IndexName"] for i in indexes}


def test_db_init_sets_lifecycle_rules_and_encryption(settings, servers) -> None:
    bucket = f"lifecycle-{uuid.uuid4().hex[:8]}"
    env = wam_env(
        settings, servers, servers.data_dir, S3_BUCKET=bucket, TABLE_PREFIX="lifecycle-test-"
    )
    ran = subprocess.run([*WAM, "db", "init"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    s3 = aws_client("s3", settings.aws_region)
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert [(t["Days"], t["StorageClass"]) for t in rules["media"]["Transitions"]] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
        (365, "DEEP_ARCHIVE"),
    ]
    assert rules["media"]["Filter"]["Prefix"] == "media/"
    assert [(t["Days"], t["StorageClass"]) for t in rules["conversations"]["Transitions"]] == [
        (7, "STANDARD_IA"),
        (30, "GLACIER"),
    ]
    assert set(rules) == {r["ID"] for r in lifecycle_rules()}
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_erasure_rewrites_a_versioned_export_and_drops_old_versions(settings, stores) -> None:
    s3 = aws_client("s3", settings.aws_region)
    bucket = f"versioned-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    gone, kept = new_wa_id(), new_wa_id()
    rows = [{"user_id": whatsapp_user_id(w), "content": f"hi from {w}"} for w in (gone, kept)]
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    key = export_key(DAY)
    s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue())
    data = PersonalData(stores.dynamodb, s3, bucket, settings.table_prefix)
    assert data.erase_exports(gone) == {
        "export_files": 1,
        "export_rows": 1,
        "export_files_archived": 0,
    }
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert len(versions) == 1
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).column("user_id").to_pylist() == [whatsapp_user_id(kept)]
    assert data.erase_exports(gone) == {
        "export_files": 0,
        "export_rows": 0,
        "export_files_archived": 0,
    }


def _athena_result(rows: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """One statement's result as Athena returns it (a header row, then text values)."""

    def kind(name: str) -> str:
        values = [r[name] for r in rows if r[name] is not None]
        if values and all(isinstance(v, int) for v in values):
            return "bigint"
        return "double" if values and isinstance(values[0], float) else "varchar"

    text = [{"Data": [{"VarCharValue": n} for n in names]}]
    text += [
        {"Data": [{} if r[n] is None else {"VarCharValue": str(r[n])} for n in names]} for r in rows
    ]
    return {"rows": text, "column_info": [{"Name": n, "Type": kind(n)} for n in names]}


def test_athena_mode_runs_the_same_statements(seeded, settings, servers) -> None:
    """Athena (moto, fed the results DuckDB computes) gets the same SQL with a partition filter
    and approx_percentile, and the figures come back the same."""
    s3 = aws_client("s3", settings.aws_region)
    table = read_export(s3, settings.s3_bucket, DAY, OTHER)
    local = compute_daily(table, DAY, OTHER)
    statements = athena_statements(DAY, OTHER, "wam_test")
    results = []
    for name in statements:
        rows = [{k: v for k, v in local.items() if k not in ("date", "account")}]
        if name != "totals":
            rows = local[name]
        names = [n for n in rows[0] if not isinstance(rows[0][n], list)] if rows else []
        results.append(_athena_result([{n: r[n] for n in names} for r in rows], names))
    feed = httpx.post(
        f"{servers.aws.url}/moto-api/static/athena/query-results", json={"results": results}
    )
    assert feed.status_code < 300
    athena = boto3.client("athena", region_name=settings.aws_region, endpoint_url=servers.aws.url)
    remote = compute_daily_athena(
        athena, DAY, OTHER, database="wam_test", workgroup="primary", output="s3://x/athena/"
    )
    for name in ("per_agent", "per_language", "per_hour", "topics"):
        assert remote[name] == local[name], name
    assert {k: v for k, v in remote.items() if not isinstance(v, list)} == {
        k: v for k, v in local.items() if not isinstance(v, list)
    }
    sql = statements["totals"]
    assert "approx_percentile(processing_time_ms, 0.95)" in sql
    assert "year = '2024' AND month = '01' AND day = '15'" in sql
    assert f"business_account_id = '{OTHER}'" in sql
    assert '"wam_test"."conversations"' in athena_table_ddl("wam_test", "bucket")


def test_point_in_time_recovery_on_every_table(settings, stores) -> None:
    changed = enable_point_in_time_recovery(stores.dynamodb, settings.table_prefix)
    assert set(changed) <= {spec.name for spec in table_specs(settings.table_prefix)}
    for spec in table_specs(settings.table_prefix):
        backups = stores.dynamodb.describe_continuous_backups(TableName=spec.name)
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert enable_point_in_time_recovery(stores.dynamodb, settings.table_prefix) == []


def test_wam_export_conversations_for_one_account(seeded, settings, servers) -> None:
    env = wam_env(settings, servers, servers.data_dir, WHATSAPP_PHONE_NUMBER_ID=OWNER)
    ran = subprocess.run(
        [*WAM, "export", "conversations", "--date", DAY.isoformat(), "--account", OTHER],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr
    mine = [r for r in seeded if r["business_account_id"] == OTHER]
    uri = f"s3://{settings.s3_bucket}/{export_key(DAY, OTHER)}"
    assert ran.stdout.strip() == f"{len(mine)} messages -> {uri}"
    bad = subprocess.run(
        [*WAM, "export", "conversations", "--date", "15/01/2024"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert bad.returncode == 2 and "not a date like 2024-01-15" in bad.stderr


def test_an_archived_export_is_restored_then_rewritten(settings, stores) -> None:
    """An export in Glacier cannot be read: the erasure asks for its restore and counts it; the
    next erasure, once it is restored, rewrites it."""
    s3 = aws_client("s3", settings.aws_region)
    bucket = f"archived-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    gone, kept = new_wa_id(), new_wa_id()
    rows = [{"user_id": whatsapp_user_id(w), "content": "hello"} for w in (gone, kept)]
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    key = export_key(date(2023, 6, 1))
    s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue(), StorageClass="GLACIER")
    data = PersonalData(stores.dynamodb, s3, bucket, settings.table_prefix)
    first = data.erase_exports(gone)
    assert first == {"export_files": 0, "export_rows": 0, "export_files_archived": 1}
    assert "Restore" in s3.head_object(Bucket=bucket, Key=key)  # requested (moto: at once)
    second = data.erase_exports(gone)
    assert second == {"export_files": 1, "export_rows": 1, "export_files_archived": 0}
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).column("user_id").to_pylist() == [whatsapp_user_id(kept)]
