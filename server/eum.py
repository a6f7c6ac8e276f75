"""AWS End User Messaging Social: the second way to connect a WhatsApp number.

A business account with `channel: aws_eum` (BUSINESS_ACCOUNTS_FILE) is linked to AWS instead of
calling Meta's Graph API itself:

- inbound, End User Messaging publishes each of Meta's webhook entries to an SNS topic, wrapped in
  its own JSON (`whatsAppWebhookEntry`); `webhook_payload` turns one into the payload the Cloud API
  webhook receives, so the same code queues its messages and applies its statuses;
- outbound, `EumSender` sends Meta's message JSON through `SendWhatsAppMessage`, marks messages read
  the same way, and fetches media with `GetWhatsAppMessageMedia` into the bucket.

The account's `access_token` is its End User Messaging phone number id (`phone-number-id-...`);
AWS credentials authenticate the calls. `ChannelSender` routes each call by that token, so one
worker answers Cloud API and End User Messaging numbers alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from server.whatsapp import SendOutcomeUnknownError, WhatsAppSender

EUM_PREFIX = "phone-number-id-"
META_API_VERSION = "v20.0"


def webhook_payload(sns_message: str) -> dict[str, Any]:
    """The Cloud API webhook payload carried by one End User Messaging SNS notification."""
    event = json.loads(sns_message)
    entry = event["whatsAppWebhookEntry"]
    if isinstance(entry, str):
        entry = json.loads(entry)
    return {"object": "whatsapp_business_account", "entry": [entry]}


def eum_client(region: str) -> Any:
    """A `socialmessaging` client that never retries on its own: a send retried after a timeout
    could reach the customer twice (a throttled send fails, and the turn is retried whole)."""
    config = Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=30)
    return boto3.session.Session().client("socialmessaging", region_name=region, config=config)


class EumSender:
    """`WhatsAppSender` over End User Messaging Social (boto3 `socialmessaging`)."""

    def __init__(
        self, client: Any, s3: Any, bucket: str, *, meta_api_version: str = META_API_VERSION
    ) -> None:
        self.client = client
        self.s3 = s3
        self.bucket = bucket
        self.meta_api_version = meta_api_version

    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str:
        """Send Meta's message JSON from the EUM number `token`; the WhatsApp message id."""
        message = {"messaging_product": "whatsapp", **payload}
        try:
            answer = await asyncio.to_thread(
                self.client.send_whatsapp_message,
                originationPhoneNumberId=token,
                message=json.dumps(message).encode(),
                metaApiVersion=self.meta_api_version,
            )
        except ReadTimeoutError as error:  # it may have been sent: never sent twice
            raise SendOutcomeUnknownError(f"End User Messaging: {error}") from error
        return str(answer["messageId"])

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        read = {"status": "read", "message_id": message_id, "typing_indicator": {"type": "text"}}
        await self.send(phone_number_id, token, read)

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        """The media file, copied by End User Messaging into the bucket and read back."""
        key = f"media/eum/{media_id}"
        answer = await asyncio.to_thread(
            self.client.get_whatsapp_message_media,
            mediaId=media_id,
            originationPhoneNumberId=token,
            destinationS3File={"bucketName": self.bucket, "key": key},
        )
        stored = await asyncio.to_thread(self.s3.get_object, Bucket=self.bucket, Key=key)
        content = await asyncio.to_thread(stored["Body"].read)
        # The staged copy goes: the media store keeps the one copy, indexed under its sender
        # (stores.media_index), which an erasure finds.
        await asyncio.to_thread(self.s3.delete_object, Bucket=self.bucket, Key=key)
        return bytes(content), str(answer.get("mimeType") or stored.get("ContentType") or "")


class ChannelSender:
    """Routes each call to the Cloud API sender or to End User Messaging, by the account's token
    (an EUM phone number id for `channel: aws_eum` accounts)."""

    def __init__(self, cloud_api: WhatsAppSender, eum: EumSender) -> None:
        self.cloud_api = cloud_api
        self.eum = eum

    def _for(self, token: str) -> WhatsAppSender:
        return self.eum if token.startswith(EUM_PREFIX) else self.cloud_api

    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str:
        return await self._for(token).send(phone_number_id, token, payload)

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        await self._for(token).mark_read(phone_number_id, token, message_id)

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        return await self._for(token).download_media(token, media_id)
