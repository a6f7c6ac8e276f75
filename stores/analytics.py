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
the table `<ATHENA_DATABASE>.conversations` (partitioned by year/month/day) and a partition filter
in place of `{where}`, and `approx_percentile` for the quantiles.

The result is written to `analytics/daily_metrics/<date>.json` (or
`analytics/daily_metrics/account=<phone_number_id>/<date>.json` for one business account).
"""

from __future__ import annotations

import json
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
    totals = results.pop("totals")[0]
    for name in ("total_messages", "unique_users", "escalations", "handoffs"):
        totals[name] = int(totals[name] or 0)
    return {"date": day.isoformat(), "account": account, **totals, **results}


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
