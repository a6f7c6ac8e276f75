"""What the agents read of a burst: each message's text, a transcript of a voice note, or what
media arrived (stored in S3 first), with ids, types and reply ids kept aligned."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from server.accounts import BusinessAccount
from server.media import MediaStore, Transcriber
from server.queue import InboundItem
from server.whatsapp import WhatsAppSender

log = structlog.get_logger(__name__)

NO_REPLY_TYPES = frozenset({"reaction", "system"})


@dataclass(frozen=True)
class Prepared:
    """The messages an agent reads, aligned: text, id, type and interactive reply id."""

    texts: list[str]
    message_ids: list[str]
    types: list[str]
    reply_ids: list[str]


class BurstReader:
    def __init__(
        self,
        sender: WhatsAppSender,
        media: MediaStore | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.sender = sender
        self.media = media
        self.transcriber = transcriber

    async def read(self, account: BusinessAccount, items: list[InboundItem]) -> Prepared:
        """What the agents read for each message: text, a transcript, or what media arrived.
        Reactions, system notices and voice notes that cannot be heard are left out, and the
        ids stay aligned with the texts."""
        prepared = Prepared([], [], [], [])
        for item in items:
            if item.type in NO_REPLY_TYPES:
                continue
            text = await self._text_of(account, item)
            if text is None:
                continue
            prepared.texts.append(text)
            prepared.message_ids.append(item.message_id)
            prepared.types.append(item.type)
            prepared.reply_ids.append(item.reply_id)
        return prepared

    async def _text_of(self, account: BusinessAccount, item: InboundItem) -> str | None:
        if not item.media_id or self.media is None:
            return None if item.type == "audio" else item.text
        try:
            content, mime = await self.sender.download_media(account.access_token, item.media_id)
            key = await self.media.put(
                item.type, item.message_id, content, mime or item.mime_type, owner=item.wa_id
            )
            if item.type == "audio":
                if self.transcriber is None:
                    return None
                return await self.transcriber.atranscribe(key, owner=item.wa_id)
            return f"{item.text} (stored as s3://{self.media.bucket}/{key})"
        except Exception as error:
            log.warning("media not stored", error=repr(error)[:200], type=item.type)
            return None if item.type == "audio" else item.text
