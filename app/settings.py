"""One settings object for the whole product, read from the environment and `.env`.

Every field is documented in `.env.example` and in the README's configuration table; a test keeps
the three in step. Invalid values stop start-up with the variable's name and the reason
(`load_settings` turns pydantic's error into a `ConfigurationError`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ModelProviderName = Literal["bedrock", "openai", "offline"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "console"]

_TABLE_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{0,200}$")


class ConfigurationError(RuntimeError):
    """A setting is missing or invalid; the message names the variable and the reason."""


class Settings(BaseSettings):
    """Runtime configuration. Field names are the environment variable names (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # Session store (Redis with JSON and Search). Unset: an embedded server is started.
    redis_url: str | None = Field(default=None, description="Redis URL; unset starts embedded")

    # AWS. Endpoints come from botocore's own AWS_ENDPOINT_URL_* variables, never from here.
    aws_region: str = Field(default="us-east-1", min_length=1)
    table_prefix: str = "dev-"
    s3_bucket: str = Field(default="whatsapp-multiagent-data", min_length=3, max_length=63)

    # Lifetimes.
    session_ttl_minutes: int = Field(default=30, gt=0, le=60 * 24 * 30)
    conversation_ttl_days: int = Field(default=30, gt=0, le=3650)

    # Models. Unset: bedrock when AWS credentials are configured, else offline.
    model_provider: ModelProviderName | None = None

    # Agents: the folder of agent configs (YAML + prompts, integrations/, knowledge/).
    agents_dir: Path | None = None
    router_threshold: float = Field(default=0.35, ge=0, le=1)
    router_model: str | None = Field(default=None, pattern=r"^(bedrock|openai):.+$")
    max_history_tokens: int = Field(default=1500, ge=200, le=100_000)

    # Local files: AOF of the embedded Redis and other state.
    data_dir: Path = Path(".data")
    # Whether long-lived commands (wam serve, wam worker) create the tables and bucket at start;
    # false where a deployment owns them (the CDK stack), so the process needs no rights to.
    prepare_on_start: bool = True

    # WhatsApp Cloud API.
    whatsapp_verify_token: str = "dev-verify-token"
    whatsapp_app_secret: str = "dev-app-secret"
    whatsapp_access_token: str = "dev-access-token"
    whatsapp_phone_number_id: str = "100000000000001"
    whatsapp_api_base_url: str | None = None
    business_accounts_file: Path | None = None
    simulator_enabled: bool | None = None
    transcribe_enabled: bool = False
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, le=50_000_000)

    # Workers.
    workers: int = Field(default=1, ge=0, le=64)
    max_concurrent_turns: int = Field(default=256, ge=1, le=5000)
    max_model_calls_in_flight: int = Field(default=128, ge=1, le=2000)
    shutdown_grace_seconds: float = Field(default=25, ge=0, le=600)
    visibility_timeout_seconds: int = Field(default=60, ge=5, le=3600)
    burst_window_ms: int = Field(default=800, ge=0, le=10_000)

    # Queue backend: the Redis Stream (self-hosted, local) or Amazon SQS FIFO (AWS).
    queue_backend: Literal["redis", "sqs"] = "redis"
    sqs_queue_url: str | None = None
    sqs_max_receives: int = Field(default=5, ge=1, le=1000)
    sqs_voice_queue_url: str | None = None

    # Secrets Manager: when set, the secret's value replaces the WhatsApp setting at start.
    whatsapp_app_secret_arn: str | None = None
    whatsapp_access_token_arn: str | None = None
    whatsapp_verify_token_arn: str | None = None
    # Other secrets (integration API keys): a JSON object, environment variable -> secret ARN.
    secret_env_arns: str | None = None
    whatsapp_messages_per_second: float = Field(default=80, gt=0, le=1000)

    # Human handoff and the agent inbox.
    inbox_token: str | None = Field(default=None, min_length=16)
    handoff_webhook_url: str | None = None
    handoff_webhook_secret: str | None = None
    handoff_waiting_update_minutes: float = Field(default=10, gt=0, le=24 * 60)
    handoff_assigned_idle_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60)

    # Admin API (GDPR access and erasure) and the analytics dashboard.
    admin_token: str | None = Field(default=None, min_length=16)
    # Where the daily analytics run: DuckDB over the Parquet exports here, or Amazon Athena.
    analytics_engine: Literal["duckdb", "athena"] = "duckdb"
    athena_database: str = Field(default="whatsapp_multiagent", pattern=r"^[a-z0-9_]{1,255}$")
    athena_workgroup: str = Field(default="primary", min_length=1)

    # HTTP server.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # Logging.
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "console"

    @field_validator("table_prefix")
    @classmethod
    def _table_prefix_is_a_valid_name_start(cls, value: str) -> str:
        if not _TABLE_PREFIX.match(value):
            raise ValueError("may contain only letters, digits, '_', '-' and '.'")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_has_a_redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        schemes = ("redis://", "rediss://", "unix://", "redis+sentinel://")
        if not value.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)}")
        return value

    @field_validator("sqs_queue_url")
    @classmethod
    def _sqs_queue_is_fifo(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")) or not value.endswith(".fifo"):
            raise ValueError("must be the https:// URL of a FIFO queue (ending in .fifo)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("whatsapp_api_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def conversations_table(self) -> str:
        return f"{self.table_prefix}conversations"

    @property
    def customers_table(self) -> str:
        return f"{self.table_prefix}customers"

    @property
    def service_levels_table(self) -> str:
        return f"{self.table_prefix}service-levels"


def describe_validation_error(error: ValidationError) -> str:
    """Render pydantic's error as one line per variable: `NAME: reason (got 'value')`."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper() or "SETTINGS"
        reason = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        suffix = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        lines.append(f"{name}: {reason}{suffix}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings, raising `ConfigurationError` that names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
