"""Meta's notifications, independent of any web framework: the FastAPI webhook (server/webhook.py)
and the webhook Lambda (lambdas/webhook_handler.py) both call these.

A POSTed body's `X-Hub-Signature-256` is checked over the raw bytes before anything is parsed
(missing: 401, mismatch: 403; oversized: 413); then each message is queued once and each status
applied. The answer is 200 only after the queue accepted the messages, and 503 when Redis (or
DynamoDB, for statuses) is unreachable or stalls, so Meta retries and nothing is lost. A body that
is not JSON, nests too deep or is not a webhook payload gets 400; no input gets a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.accounts import AccountRegistry
from server.config import ChannelConfig
from server.enqueue import Enqueuer
from server.masking import mask_phone
from server.metrics import Metrics
from server.payloads import InboundMessage, Status, WebhookPayload, describe_message
from server.queue import CALLBACK_PREFIX, Keys, queue_fields
from stores import Stores

log = structlog.get_logger(__name__)

# Meta waits about 20 s for an answer; a stalled store gets 503 (Meta retries) well before that.
ACCEPT_TIMEOUT_S = 15.0
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def signature_for(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookContext:
    """What accepting a notification needs; the FastAPI app and the webhook Lambda build one."""

    config: ChannelConfig
    queue: Enqueuer
    accounts: AccountRegistry
    stores: Stores
    redis: Redis
    metrics: Metrics


def verify_challenge(
    verify_token: str, mode: str | None, token: str | None, challenge: str | None
) -> tuple[int, str]:
    """Meta's subscription check: (200, the challenge) when the token matches, else 403."""
    if (
        mode == "subscribe"
        and token is not None
        and hmac.compare_digest(token.encode(), verify_token.encode())
    ):
        return 200, challenge or ""
    return 403, "verification failed"


def parse_payload(body: bytes) -> WebhookPayload | None:
    """The payload, or None (logged without input values) when the body is not one."""
    try:
        return WebhookPayload.model_validate(json.loads(body))
    except ValidationError as error:
        # Where and what kind, never the values: they carry customers' phone numbers.
        where = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        log.warning("webhook body not understood", problems=where[:10])
    except (ValueError, RecursionError) as error:
        log.warning("webhook body is not JSON", error=type(error).__name__)
    return None


async def handle_notification(
    context: WebhookContext, body: bytes, signature: str | None
) -> tuple[int, dict[str, Any]]:
    """A POSTed notification: (HTTP status, JSON answer). The signature is checked over the raw
    body before anything is parsed; 200 only once the queue holds every message."""
    metrics = context.metrics
    if len(body) > context.config.max_body_bytes:
        metrics.webhooks.labels(outcome="too_large").inc()
        return 413, {"error": "body too large"}
    if not signature:
        metrics.webhooks.labels(outcome="unsigned").inc()
        return 401, {"error": "missing X-Hub-Signature-256"}
    expected = signature_for(body, context.config.app_secret)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        metrics.webhooks.labels(outcome="bad_signature").inc()
        return 403, {"error": "signature mismatch"}
    return await accept_payload(context, parse_payload(body))


async def accept_payload(
    context: WebhookContext, payload: WebhookPayload | None
) -> tuple[int, dict[str, Any]]:
    """Queue a payload's messages and apply its statuses: (HTTP status, JSON answer). For a
    signed POST once its signature holds, and for End User Messaging's SNS events (server/eum.py),
    which AWS authenticates."""
    metrics = context.metrics
    if payload is None:
        metrics.webhooks.labels(outcome="invalid").inc()
        return 400, {"error": "body is not a WhatsApp webhook payload"}
    try:
        queued = await asyncio.wait_for(_accept(context, payload), timeout=ACCEPT_TIMEOUT_S)
    except (RedisError, OSError, BotoCoreError, ClientError, TimeoutError) as error:
        metrics.webhooks.labels(outcome="unavailable").inc()
        log.error("store unavailable; Meta will retry", error=repr(error)[:200])
        return 503, {"error": "temporarily unavailable"}
    metrics.webhooks.labels(outcome="accepted").inc()
    return 200, {"status": "ok", "queued": queued}


async def _accept(context: WebhookContext, payload: WebhookPayload) -> int:
    queue = context.queue
    accounts = context.accounts
    queued = 0
    for entry in payload.entry:
        for change in entry.changes:
            value = change.value
            number = value.metadata.phone_number_id if value.metadata else None
            for status in value.statuses:
                await _apply_status(context, status)
            if not value.messages:
                continue
            if accounts.get(number) is None:
                log.warning(
                    "message to a number no account owns; acknowledged, not answered",
                    phone_number_id=number,
                    messages=len(value.messages),
                )
                continue
            names = {c.wa_id: c.profile.name for c in value.contacts if c.profile}
            for message in value.messages:
                if problem := _unanswerable(message):
                    log.warning("message acknowledged, not queued", reason=problem)
                    continue
                fields = _fields(message, str(number), names.get(message.from_))
                if await queue.enqueue_once(message.id, fields):
                    queued += 1
                    log.info(
                        "message queued",
                        message_id=message.id,
                        type=message.type,
                        user=mask_phone(message.from_),
                    )
                else:
                    log.info("duplicate delivery ignored", message_id=message.id)
    return queued


def _unanswerable(message: InboundMessage) -> str | None:
    """Why a message can never be answered (no customer number to answer, no id to track)."""
    if not (message.from_ or "").isdigit() or len(message.from_) > 20:
        return "'from' is not a WhatsApp id (digits)"
    if not (message.id or "").strip():
        return "no message id"
    return None


def _reply_id(message: InboundMessage) -> str | None:
    """The id of the button or list row a customer tapped (our own ids, e.g. a proposal's)."""
    if message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        return reply.id if reply else None
    if message.button is not None:
        return message.button.payload
    return None


def _fields(message: InboundMessage, phone_number_id: str, name: str | None) -> dict[str, str]:
    media = message.media
    return queue_fields(
        reply_id=_reply_id(message),
        message_id=message.id,
        phone_number_id=phone_number_id,
        wa_id=message.from_,
        type=message.type,
        text=describe_message(message),
        media_id=media.id if media else None,
        mime_type=media.mime_type if media else None,
        contact_name=name,
        timestamp=message.timestamp,
    )


async def _apply_status(context: WebhookContext, status: Status) -> None:
    metrics = context.metrics
    metrics.statuses.labels(status=status.status).inc()
    rank = STATUS_RANK.get(status.status)
    if rank is None:
        log.info("status ignored", status=status.status, message_id=status.id)
        return
    extra: dict[str, Any] = {}
    if status.status == "failed":
        code = status.errors[0].code if status.errors else None
        extra["status_error_code"] = code
        log.warning(
            "message delivery failed",
            message_id=status.id,
            code=code,
            title=status.errors[0].title if status.errors else None,
        )
    callback = status.biz_opaque_callback_data or ""
    if callback.startswith(CALLBACK_PREFIX) and status.status != "failed":
        taken = Keys.taken(callback.removeprefix(CALLBACK_PREFIX))
        await context.redis.set(taken, status.id, ex=7 * 24 * 3600)
    moved = await context.stores.conversations.aadvance_status(
        status.id, status.status, rank, **extra
    )
    log.info("status", message_id=status.id, status=status.status, applied=moved)
