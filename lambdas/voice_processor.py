"""`voice-processor`: voice notes transcribed with Amazon Transcribe, then answered as text.

The webhook handler sends voice notes to a standard SQS queue (`SQS_VOICE_QUEUE_URL`) instead of
the FIFO queue. For each one this function downloads the note from the Graph API, stores it in
S3 (`media/audio/...`), runs a Transcribe job on it (up to the function's 15 minutes, so the
orchestrator's turn budget never waits on Transcribe), and puts the transcript on the customer's
FIFO message group under the note's message id: the orchestrator answers it like a text, once.
A note that cannot be heard goes on unchanged, and the orchestrator asks for text instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import structlog
from redis.asyncio import Redis

from lambdas import container
from server.accounts import AccountRegistry
from server.media import MediaStore, Transcriber
from server.queue import InboundItem, queue_fields
from server.sqs import SqsQueue
from server.whatsapp import GraphApiClient
from stores import aws_client

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class VoiceParts:
    accounts: AccountRegistry
    graph: GraphApiClient
    media: MediaStore
    transcriber: Transcriber
    queue: SqsQueue


async def _parts() -> VoiceParts:
    settings = container.settings()
    if settings.redis_url is None or settings.sqs_queue_url is None:
        raise RuntimeError("the voice processor needs REDIS_URL and SQS_QUEUE_URL")
    if settings.whatsapp_api_base_url is None:
        raise RuntimeError("the voice processor needs WHATSAPP_API_BASE_URL")
    redis = Redis.from_url(settings.redis_url)
    container.on_reset(redis.aclose)
    s3 = aws_client("s3", settings.aws_region)
    return VoiceParts(
        accounts=AccountRegistry.load(
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
            settings.agents_dir,
            settings.business_accounts_file,
        ),
        graph=GraphApiClient(settings.whatsapp_api_base_url),
        media=MediaStore(s3, settings.s3_bucket),
        transcriber=Transcriber(
            aws_client("transcribe", settings.aws_region), settings.s3_bucket, 14 * 60.0, s3=s3
        ),
        queue=SqsQueue(aws_client("sqs", settings.aws_region), settings.sqs_queue_url, redis),
    )


async def heard(parts: VoiceParts, item: InboundItem) -> InboundItem:
    """The note as text (its transcript), or unchanged when it cannot be heard."""
    account = parts.accounts.get(item.phone_number_id)
    if account is None or not item.media_id:
        return item
    try:
        content, mime = await parts.graph.download_media(account.access_token, item.media_id)
        key = await parts.media.put(
            "audio", item.message_id, content, mime or item.mime_type, owner=item.wa_id
        )
        text = (await parts.transcriber.atranscribe(key, owner=item.wa_id)).strip()
    except Exception as error:
        log.warning("voice note not transcribed", error=repr(error)[:200])
        return item
    if not text:
        return item
    return replace(item, type="text", text=text, media_id="", mime_type="")


def fields_of(item: InboundItem) -> dict[str, str]:
    return queue_fields(
        message_id=item.message_id,
        phone_number_id=item.phone_number_id,
        wa_id=item.wa_id,
        type=item.type,
        text=item.text,
        media_id=item.media_id,
        mime_type=item.mime_type,
        contact_name=item.contact_name,
        reply_id=item.reply_id,
    )


async def process(event: dict[str, Any]) -> dict[str, Any]:
    parts = await container.once("voice", _parts)
    failed: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            fields = json.loads(record["body"])
            item = InboundItem.from_entry(record["messageId"], fields)
        except (ValueError, KeyError, TypeError):
            log.error("voice queue message is not a queued item; dropped")
            continue
        try:
            await parts.queue.enqueue_transcript(fields_of(await heard(parts, item)))
        except Exception as error:
            log.error("transcript not queued; retried", error=repr(error)[:200])
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return container.run(process(event))
