"""What the channel needs from the settings (built by the `wam` shell from `Settings`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelConfig:
    verify_token: str
    app_secret: str
    redis_url: str
    session_ttl_minutes: int = 30
    max_body_bytes: int = 1_048_576
    workers: int = 1
    simulator: bool = True
    transcribe: bool = False
    visibility_timeout_ms: int = 60_000
    burst_window_ms: int = 800
    max_concurrent_turns: int = 256
    max_model_calls_in_flight: int = 128
    shutdown_grace_seconds: float = 25.0
    # The inbox: a bearer token; without one it is served only in local mode, to this machine.
    inbox_token: str | None = None
    local_mode: bool = True
    handoff_webhook_url: str | None = None
    handoff_webhook_secret: str = ""
    handoff_waiting_update_seconds: float = 600.0
    handoff_assigned_idle_seconds: float = 1800.0

    @property
    def inbox_enabled(self) -> bool:
        return self.inbox_token is not None or self.local_mode

    default_phone_number_id: str = "100000000000001"
    queue_backend: str = "redis"  # or "sqs"
    sqs_queue_url: str | None = None
    sqs_max_receives: int = 5
    aws_region: str = "us-east-1"
    # The admin API (GDPR access and erasure) and the dashboard: bearer token; unset, both 401.
    admin_token: str | None = None
    s3_bucket: str = "whatsapp-multiagent-data"
