"""`wam gdpr ...`, `wam export ...`, `wam analytics ...`: the data lifecycle commands."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from typing import Annotated, Any

import typer
from redis.asyncio import Redis as AsyncRedis

from app.logging import configure_logging
from app.runtime import Runtime, running_stack
from app.settings import Settings, load_settings
from checkpointers import async_redis_saver
from server.accounts import AccountRegistry
from server.gdpr import InvalidNumberError, PersonalDataService, normalize_wa_id
from stores import aws_client
from stores.analytics import athena_table_ddl, compute_daily, compute_daily_athena, write_daily
from stores.erasure import PersonalData
from stores.export import export_conversations, read_export

gdpr = typer.Typer(help="A person's data: access (export as JSON) and erasure, in every store.")
export = typer.Typer(help="Exports of the conversation log to S3 (Parquet).")
analytics = typer.Typer(help="Daily analytics over the Parquet exports.")

UserOption = Annotated[str, typer.Option("--user", help="the WhatsApp number, e.g. +15550001")]
DateOption = Annotated[str, typer.Option("--date", help="the UTC day, YYYY-MM-DD")]
AccountOption = Annotated[
    str | None, typer.Option("--account", help="one business account (phone_number_id)")
]


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2024-01-15") from None


def _accounts(settings: Settings) -> list[str]:
    registry = AccountRegistry.load(
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
        settings.agents_dir,
        settings.business_accounts_file,
    )
    return [account.phone_number_id for account in registry.all()]


async def _with_service(
    runtime: Runtime, action: str, wa_id: str, scan: bool = True
) -> dict[str, Any]:
    settings = runtime.settings
    redis = AsyncRedis.from_url(runtime.redis_url)
    try:
        service = PersonalDataService(
            redis=redis,
            data=PersonalData(
                runtime.stores.dynamodb,
                aws_client("s3", settings.aws_region),
                settings.s3_bucket,
                settings.table_prefix,
                scan_guards=scan,
            ),
            open_saver=lambda: async_redis_saver(runtime.redis_url, settings.session_ttl_minutes),
            accounts=_accounts(settings),
        )
        if action == "erase":
            return await service.erase(wa_id)
        return await service.access(wa_id)
    finally:
        await redis.aclose()


def _run(action: str, user: str, scan: bool = True) -> None:
    settings = _settings()
    try:
        wa_id = normalize_wa_id(user)
    except InvalidNumberError as error:
        raise typer.BadParameter(str(error), param_hint="--user") from None
    with running_stack(settings, prepare=False) as runtime:
        result = asyncio.run(_with_service(runtime, action, wa_id, scan))
    typer.echo(json.dumps(result, indent=2, default=str, ensure_ascii=False))


@gdpr.command("delete")
def gdpr_delete(
    user: UserOption,
    scan: Annotated[
        bool,
        typer.Option(
            "--scan/--no-scan",
            help="also scan the conversations table for message aliases (a safety net for "
            "items logged before replies recorded Meta's ids; --no-scan once "
            "CONVERSATION_TTL_DAYS have passed since)",
        ),
    ] = True,
) -> None:
    """Erase everything stored about the person (Redis, DynamoDB, S3, exports); print the
    deletion report. Idempotent; a run interrupted midway is finished by running it again."""
    _run("erase", user, scan)


@gdpr.command("export")
def gdpr_export(user: UserOption) -> None:
    """Print everything stored about the person, as JSON."""
    _run("access", user)


@export.command("conversations")
def export_day(day: DateOption, account: AccountOption = None) -> None:
    """Write the day's conversations to s3://<bucket>/conversations/year=/month=/day=/ (Parquet)."""
    settings = _settings()
    moment = _day(day)
    with running_stack(settings, prepare=False) as runtime:
        result = export_conversations(
            runtime.stores.dynamodb,
            aws_client("s3", settings.aws_region),
            table=settings.conversations_table,
            bucket=settings.s3_bucket,
            day=moment,
            account=account,
            default_account=settings.whatsapp_phone_number_id,
        )
    typer.echo(f"{result.rows} messages -> {result.uri}")


@analytics.command("daily")
def analytics_daily(
    day: DateOption,
    account: AccountOption = None,
    refresh: Annotated[bool, typer.Option(help="export the day first")] = True,
) -> None:
    """The day's metrics over its Parquet export, to analytics/daily_metrics/<date>.json."""
    settings = _settings()
    moment = _day(day)
    with running_stack(settings, prepare=False) as runtime:
        s3 = aws_client("s3", settings.aws_region)
        if refresh:
            export_conversations(
                runtime.stores.dynamodb,
                s3,
                table=settings.conversations_table,
                bucket=settings.s3_bucket,
                day=moment,
                # Athena filters the all-accounts file by account; DuckDB reads the account's.
                account=account if settings.analytics_engine == "duckdb" else None,
                default_account=settings.whatsapp_phone_number_id,
            )
        if settings.analytics_engine == "athena":
            metrics = compute_daily_athena(
                aws_client("athena", settings.aws_region),
                moment,
                account,
                database=settings.athena_database,
                workgroup=settings.athena_workgroup,
                output=f"s3://{settings.s3_bucket}/athena-results/",
            )
        else:
            table = read_export(s3, settings.s3_bucket, moment, account)
            metrics = compute_daily(table, moment, account)
        key = write_daily(s3, settings.s3_bucket, metrics)
    typer.echo(json.dumps(metrics, indent=2))
    typer.echo(f"-> s3://{settings.s3_bucket}/{key}", err=True)


@analytics.command("athena-table")
def analytics_athena_table() -> None:
    """Print the DDL of the Athena table over the daily exports (ANALYTICS_ENGINE=athena)."""
    settings = load_settings()
    typer.echo(athena_table_ddl(settings.athena_database, settings.s3_bucket))
