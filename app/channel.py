"""Builds the WhatsApp channel (server/) from settings and a running stack."""

from __future__ import annotations

from fastapi import FastAPI

from app.runtime import Runtime
from app.secrets import resolve_secrets
from app.settings import ConfigurationError, Settings
from server import (
    AccountRegistry,
    Channel,
    ChannelConfig,
    GraphApiClient,
    LocalOutbox,
    MediaStore,
    Transcriber,
)
from server.eum import ChannelSender, EumSender, eum_client
from server.whatsapp import WhatsAppSender
from stores import aws_client


def simulator_on(settings: Settings) -> bool:
    """The simulator signs webhooks with the app secret and can act as any customer: it runs only
    in local mode (no `WHATSAPP_API_BASE_URL`), where it is on unless turned off."""
    local = settings.whatsapp_api_base_url is None
    if settings.simulator_enabled and not local:
        raise ConfigurationError(
            "SIMULATOR_ENABLED: the simulator signs webhooks with the app secret and acts as any "
            "customer, so it runs only in local mode (WHATSAPP_API_BASE_URL unset)"
        )
    return local and settings.simulator_enabled is not False


def build_channel(runtime: Runtime, workers: int | None = None) -> Channel:
    settings = resolve_secrets(runtime.settings)
    local = settings.whatsapp_api_base_url is None
    outbox = LocalOutbox(runtime.redis_url) if local else None
    sender: WhatsAppSender = (
        outbox if outbox is not None else GraphApiClient(str(settings.whatsapp_api_base_url))
    )
    simulator = simulator_on(settings)
    config = ChannelConfig(
        verify_token=settings.whatsapp_verify_token,
        app_secret=settings.whatsapp_app_secret,
        redis_url=runtime.redis_url,
        session_ttl_minutes=settings.session_ttl_minutes,
        max_body_bytes=settings.webhook_max_body_bytes,
        workers=settings.workers if workers is None else workers,
        simulator=simulator,
        transcribe=settings.transcribe_enabled,
        visibility_timeout_ms=settings.visibility_timeout_seconds * 1000,
        burst_window_ms=settings.burst_window_ms,
        max_concurrent_turns=settings.max_concurrent_turns,
        max_model_calls_in_flight=settings.max_model_calls_in_flight,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
        default_phone_number_id=settings.whatsapp_phone_number_id,
        inbox_token=settings.inbox_token,
        local_mode=local,
        handoff_webhook_url=settings.handoff_webhook_url,
        handoff_webhook_secret=settings.handoff_webhook_secret or "",
        handoff_waiting_update_seconds=settings.handoff_waiting_update_minutes * 60,
        handoff_assigned_idle_seconds=settings.handoff_assigned_idle_minutes * 60,
        queue_backend=settings.queue_backend,
        sqs_queue_url=settings.sqs_queue_url,
        sqs_max_receives=settings.sqs_max_receives,
        aws_region=settings.aws_region,
        admin_token=settings.admin_token,
        s3_bucket=settings.s3_bucket,
    )
    accounts = AccountRegistry.load(
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
        settings.agents_dir,
        settings.business_accounts_file,
        default_messages_per_second=settings.whatsapp_messages_per_second,
    )
    s3 = aws_client("s3", settings.aws_region)
    if any(account.channel == "aws_eum" for account in accounts.all()):
        eum = EumSender(eum_client(settings.aws_region), s3, settings.s3_bucket)
        sender = ChannelSender(sender, eum)

    return Channel(
        config=config,
        stores=runtime.stores,
        accounts=accounts,
        deps_for=runtime.supervisor_deps,
        sender=sender,
        outbox=outbox,
        media=MediaStore(s3, settings.s3_bucket),
        transcriber=(
            Transcriber(aws_client("transcribe", settings.aws_region), settings.s3_bucket)
            if settings.transcribe_enabled
            else None
        ),
    )


def drop_api_docs(app: FastAPI) -> None:
    """No `/docs`, `/redoc` or `/openapi.json`: outside local mode the API describes nothing."""
    hidden = {app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url}
    hidden.discard(None)
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in hidden
    ]
    app.docs_url = app.redoc_url = app.openapi_url = None
