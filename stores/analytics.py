"""Daily analytics over the Parquet export (`wam analytics daily --date`).

The figures (one SQL statement each, over a table `conversations` with the export's schema):

- `total_messages`, `inbound_messages`, `outbound_messages`: customer and reply messages (rows
  with direction inbound/outbound; the internal handoff records are not messages).
- `unique_users`: distinct `user_id` among them.
- `avg_confidence`: the router's average confidence over the customer's messages.
- `avg_processing_time_ms`, `turn_latency_p50_ms`, `turn_latency_p95_ms`: over the bot's replies
  (`processing_time_ms`, from the message's arrival to the reply; continuous quantiles).
- `escalations`: replies that escalated to a person; `handoffs`: threads that started waiting for
  a person (handoff records with state `waiting`).
- `per_agent` (messages, users, avg confidence, avg processing time), `per_language`, `per_hour`
  (UTC hour of the day), `topics` (the day's ten busiest intents, by customer messages).

Locally DuckDB runs the SQL over the file (`ANALYTICS_ENGINE=duckdb`). In production the document
uses Athena over the same Parquet layout (`ANALYTICS_ENGINE=athena`): the same statements, with
the table `<ATHENA_DATABASE>.conversations` (`athena_table_ddl`: partitioned by year/month/day
with partition projection) and a partition filter in place of `{where}`, and
`approx_percentile` (approximate) for the quantiles.

The result is written to `analytics/daily_metrics/<date>.json` (or
`analytics/daily_metrics/account=<phone_number_id>/<date>.json` for one business account).
"""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

MESSAGES = "direction IN ('inbound', 'outbound')"
REPLIES = "direction = 'outbound' AND role = 'assistant'"

TOTALS_SQL = f"""
SELECT
  COUNT(*) FILTER (WHERE {MESSAGES}) AS total_messages,
  COUNT(*) FILTER (WHERE direction = 'inbound') AS inbound_messages,
  COUNT(*) FILTER (WHERE direction = 'outbound') AS outbound_messages,
  COUNT(DISTINCT user_id) FILTER (WHERE {MESSAGES}) AS unique_users,
  AVG(confidence_score) FILTER (WHERE direction = 'inbound') AS avg_confidence,
  AVG(processing_time_ms) FILTER (WHERE {REPLIES}) AS avg_processing_time_ms,
  {{quantile}}(processing_time_ms, 0.5) FILTER (WHERE {REPLIES}) AS turn_latency_p50_ms,
  {{quantile}}(processing_time_ms, 0.95) FILTER (WHERE {REPLIES}) AS turn_latency_p95_ms,
  COUNT(*) FILTER (WHERE {REPLIES} AND escalation_triggered) AS escalations,
  COUNT(*) FILTER (WHERE direction = 'internal' AND handoff_state = 'waiting') AS handoffs
FROM {{table}} WHERE {{where}}
"""

PER_AGENT_SQL = f"""
SELECT agent_id AS agent, COUNT(*) AS messages, COUNT(DISTINCT user_id) AS users,
  AVG(confidence_score) FILTER (WHERE direction = 'inbound') AS avg_confidence,
  AVG(processing_time_ms) FILTER (WHERE {REPLIES}) AS avg_processing_time_ms
FROM {{table}} WHERE {{where}} AND {MESSAGES} AND agent_id IS NOT NULL
GROUP BY agent_id ORDER BY messages DESC, agent
"""

PER_LANGUAGE_SQL = f"""
SELECT COALESCE(language, 'unknown') AS language, COUNT(*) AS messages
FROM {{table}} WHERE {{where}} AND {MESSAGES}
GROUP BY 1 ORDER BY messages DESC, language
"""

PER_HOUR_SQL = f"""
SELECT CAST(substr(timestamp, 12, 2) AS INTEGER) AS hour, COUNT(*) AS messages
FROM {{table}} WHERE {{where}} AND {MESSAGES}
GROUP BY 1 ORDER BY hour
"""

TOPICS_SQL = """
SELECT COALESCE(intent, agent_id, 'unknown') AS topic, COUNT(*) AS messages,
  COUNT(DISTINCT user_id) AS users
FROM {table} WHERE {where} AND direction = 'inbound'
GROUP BY 1 ORDER BY messages DESC, topic LIMIT 10
"""

STATEMENTS = {
    "totals": TOTALS_SQL,
    "per_agent": PER_AGENT_SQL,
    "per_language": PER_LANGUAGE_SQL,
    "per_hour": PER_HOUR_SQL,
    "topics": TOPICS_SQL,
}


def metrics_key(day: date, account: str | None = None) -> str:
    tenant = f"account={account}/" if account else ""
    return f"analytics/daily_metrics/{tenant}{day.isoformat()}.json"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    return value


def _records(cursor: Any) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return [{n: _clean(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def compute_daily(conversations: Any, day: date, account: str | None = None) -> dict[str, Any]:
    """The day's figures from a pyarrow Table with the export's schema (DuckDB)."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        connection.register("conversations", conversations)
        results = {
            name: _records(
                connection.execute(
                    sql.format(table="conversations", where="TRUE", quantile="quantile_cont")
                )
            )
            for name, sql in STATEMENTS.items()
        }
    finally:
        connection.close()
    return _assemble(results, day, account)


def _assemble(
    results: dict[str, list[dict[str, Any]]], day: date, account: str | None
) -> dict[str, Any]:
    totals = results.pop("totals")[0]
    for name in ("total_messages", "inbound_messages", "outbound_messages"):
        totals[name] = int(totals[name] or 0)
    for name in ("unique_users", "escalations", "handoffs"):
        totals[name] = int(totals[name] or 0)
    return {"date": day.isoformat(), "account": account, **totals, **results}


def athena_statements(day: date, account: str | None, database: str) -> dict[str, str]:
    """The same statements for Athena: the partitioned table, a partition filter (and the
    account's rows), and `approx_percentile` for the quantiles."""
    where = f"year = '{day.year:04d}' AND month = '{day.month:02d}' AND day = '{day.day:02d}'"
    if account:
        if not account.isdigit():
            raise ValueError("an account is a phone_number_id (digits)")
        where += f" AND business_account_id = '{account}'"
    table = f'"{database}"."conversations"'
    return {
        name: sql.format(table=table, where=where, quantile="approx_percentile")
        for name, sql in STATEMENTS.items()
    }


def athena_table_ddl(database: str, bucket: str) -> str:
    """The Athena table over the daily exports (partition projection: no crawler, no repair).
    Only the all-accounts files are read (`conversations/year=…`); one account is a filter."""
    from stores.export import EXPORT_COLUMNS

    kinds = {"string": "string", "float64": "double", "int64": "bigint", "bool": "boolean"}
    columns = ",\n  ".join(
        f"`{name}` {kinds.get(kind, 'array<string>')}" for name, kind in EXPORT_COLUMNS
    )
    location = f"s3://{bucket}/conversations/"
    return (
        f'CREATE EXTERNAL TABLE IF NOT EXISTS "{database}"."conversations" (\n  {columns}\n)\n'
        "PARTITIONED BY (`year` string, `month` string, `day` string)\n"
        f"STORED AS PARQUET LOCATION '{location}'\n"
        "TBLPROPERTIES ('projection.enabled'='true', "
        "'projection.year.type'='integer', 'projection.year.range'='2020,2100', "
        "'projection.year.digits'='4', "
        "'projection.month.type'='integer', 'projection.month.range'='1,12', "
        "'projection.month.digits'='2', "
        "'projection.day.type'='integer', 'projection.day.range'='1,31', "
        "'projection.day.digits'='2', "
        f"'storage.location.template'='{location}year=${{year}}/month=${{month}}/day=${{day}}')"
    )


_ATHENA_TYPES = {"bigint": int, "integer": int, "smallint": int, "tinyint": int, "double": float}


def run_athena(
    athena: Any, sql: str, *, database: str, workgroup: str, output: str
) -> list[dict[str, Any]]:
    """Run one statement in Athena and return its rows (typed by the result's column types)."""
    started = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        WorkGroup=workgroup,
        ResultConfiguration={"OutputLocation": output},
    )
    query = started["QueryExecutionId"]
    for _ in range(600):
        state = athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]
        if state["State"] == "SUCCEEDED":
            break
        if state["State"] in ("FAILED", "CANCELLED"):
            raise RuntimeError(f"Athena query {state['State']}: {state.get('StateChangeReason')}")
        time.sleep(0.5)
    else:
        raise TimeoutError(f"Athena query {query} did not finish in 5 minutes")
    rows: list[dict[str, Any]] = []
    header: list[str] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query):
        columns = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        names = [c["Name"] for c in columns]
        casts = [_ATHENA_TYPES.get(c["Type"].lower()) for c in columns]
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row["Data"]]
            if not header:  # the first row repeats the column names
                header = names
                continue
            rows.append(
                {
                    n: _clean(cast(v) if cast and v is not None else v)
                    for n, cast, v in zip(names, casts, values, strict=True)
                }
            )
    return rows


def compute_daily_athena(
    athena: Any,
    day: date,
    account: str | None,
    *,
    database: str,
    workgroup: str,
    output: str,
) -> dict[str, Any]:
    """The day's figures computed by Athena (ANALYTICS_ENGINE=athena)."""
    results = {
        name: run_athena(athena, sql, database=database, workgroup=workgroup, output=output)
        for name, sql in athena_statements(day, account, database).items()
    }
    return _assemble(results, day, account)


def write_daily(s3: Any, bucket: str, metrics: dict[str, Any]) -> str:
    key = metrics_key(date.fromisoformat(metrics["date"]), metrics.get("account"))
    body = json.dumps(metrics, indent=2, sort_keys=True).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return key


def read_daily_metrics(
    s3: Any, bucket: str, days: list[date], account: str | None = None
) -> list[dict[str, Any]]:
    """The metrics files of `days` that exist, in order."""
    found = []
    for day in days:
        try:
            body = s3.get_object(Bucket=bucket, Key=metrics_key(day, account))["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                continue
            raise
        found.append(json.loads(body))
    return found
