"""`daily-jobs`: the daily export and analytics, on an EventBridge schedule (02:30 UTC).

Yesterday's conversations (every business account) go to the Parquet export
(`conversations/year=/month=/day=/`, stores/export.py), then the day's metrics are computed over it
(DuckDB, or Athena with `ANALYTICS_ENGINE=athena`; stores/analytics.py) and written to
`analytics/daily_metrics/<date>.json`: what `wam export conversations` and `wam analytics daily`
do. An event with `"day": "YYYY-MM-DD"` runs another day (a re-run is idempotent).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog

from lambdas import container

log = structlog.get_logger(__name__)


def day_of(event: dict[str, Any]) -> date:
    """The day to process: the event's `day`, else the day before the scheduled time (UTC)."""
    if isinstance(event.get("day"), str):
        return date.fromisoformat(event["day"])
    when = event.get("time")
    moment = datetime.fromisoformat(when.replace("Z", "+00:00")) if when else datetime.now(UTC)
    return (moment - timedelta(days=1)).date()


def run_day(day: date) -> dict[str, Any]:
    from stores import Stores, aws_client
    from stores.analytics import compute_daily, compute_daily_athena, write_daily
    from stores.export import export_conversations, read_export

    settings = container.settings()
    s3 = aws_client("s3", settings.aws_region)
    stores = Stores.connect(settings.aws_region, settings.table_prefix)
    exported = export_conversations(
        stores.dynamodb,
        s3,
        table=settings.conversations_table,
        bucket=settings.s3_bucket,
        day=day,
        default_account=settings.whatsapp_phone_number_id,
    )
    if settings.analytics_engine == "athena":
        metrics = compute_daily_athena(
            aws_client("athena", settings.aws_region),
            day,
            None,
            database=settings.athena_database,
            workgroup=settings.athena_workgroup,
            output=f"s3://{settings.s3_bucket}/athena-results/",
        )
    else:
        metrics = compute_daily(read_export(s3, settings.s3_bucket, day), day)
    key = write_daily(s3, settings.s3_bucket, metrics)
    log.info("daily jobs done", day=day.isoformat(), rows=exported.rows, metrics=key)
    return {"day": day.isoformat(), "rows": exported.rows, "export": exported.uri, "metrics": key}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_day(day_of(event))
