"""`whatsapp-webhook-handler`: API Gateway HTTP API → verify → SQS FIFO → 200.

GET answers Meta's verification challenge; POST checks `X-Hub-Signature-256` over the raw body
(base64-decoded when API Gateway encoded it) and queues each message once on the FIFO queue,
through the same code as `wam serve`'s webhook (server/notifications.py). It loads neither the
graph nor the models: its cold start is the SDK clients and the payload models.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from lambdas import container
from lambdas.http import HttpRequest, response
from server.accounts import AccountRegistry
from server.config import ChannelConfig
from server.metrics import Metrics
from server.notifications import WebhookContext, handle_notification, verify_challenge
from server.sqs import SqsQueue
from stores import Stores, aws_client


async def webhook_context() -> WebhookContext:
    settings = container.settings()
    if settings.redis_url is None or settings.sqs_queue_url is None:
        raise RuntimeError("the webhook handler needs REDIS_URL and SQS_QUEUE_URL")
    redis = Redis.from_url(settings.redis_url, health_check_interval=10)
    container.on_reset(redis.aclose)
    return WebhookContext(
        config=ChannelConfig(
            verify_token=settings.whatsapp_verify_token,
            app_secret=settings.whatsapp_app_secret,
            redis_url=settings.redis_url,
            max_body_bytes=settings.webhook_max_body_bytes,
            queue_backend="sqs",
            sqs_queue_url=settings.sqs_queue_url,
            aws_region=settings.aws_region,
        ),
        queue=SqsQueue(
            aws_client("sqs", settings.aws_region),
            settings.sqs_queue_url,
            redis,
            voice_queue_url=settings.sqs_voice_queue_url,
        ),
        accounts=AccountRegistry.load(
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
            settings.agents_dir,
            settings.business_accounts_file,
            default_messages_per_second=settings.whatsapp_messages_per_second,
            require_tokens=False,  # it never calls the Graph API: no secret to read
        ),
        stores=Stores.connect(
            settings.aws_region, settings.table_prefix, settings.conversation_ttl_days
        ),
        redis=redis,
        metrics=Metrics(),
    )


async def _handle(request: HttpRequest) -> dict[str, Any]:
    context = await container.once("webhook", webhook_context)
    if request.method == "GET":
        q = request.query
        status, text = verify_challenge(
            context.config.verify_token,
            q.get("hub.mode"),
            q.get("hub.verify_token"),
            q.get("hub.challenge"),
        )
        return response(status, text)
    if request.method != "POST":
        return response(405, {"error": "method not allowed"})
    signature = request.headers.get("x-hub-signature-256")
    status, content = await handle_notification(context, request.body, signature)
    return response(status, content)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return container.run(_handle(HttpRequest.from_event(event)))
