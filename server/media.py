"""Inbound media, stored in S3 under `media/<type>/<yyyy>/<mm>/<dd>/<id>.<ext>`.

Voice notes are transcribed with Amazon Transcribe when enabled. Transcribe writes its transcript to
our bucket (`transcripts/<job>.json`), which is read back with the AWS SDK (S3 GetObject, signed
like every other call), so the bucket stays private.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from stores.media_index import MediaIndex

FOLDERS = {
    "image": "images",
    "document": "documents",
    "audio": "audio",
    "video": "videos",
    "sticker": "stickers",
}


def media_key(kind: str, message_id: str, mime_type: str, moment: datetime | None = None) -> str:
    """The seed's S3 layout for inbound media."""
    day = (moment or datetime.now(UTC)).strftime("%Y/%m/%d")
    extension = mimetypes.guess_extension((mime_type or "").split(";")[0].strip()) or ".bin"
    safe_id = "".join(c if c.isalnum() or c in "._-" else "_" for c in message_id)
    return f"media/{FOLDERS.get(kind, kind)}/{day}/{safe_id}{extension}"


class MediaStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.index = MediaIndex(s3, bucket)

    async def put(
        self, kind: str, message_id: str, content: bytes, mime_type: str, owner: str | None = None
    ) -> str:
        """Store one media object; with `owner` (the sender's WhatsApp number) it is indexed
        first under that person (`stores.media_index`), so an erasure finds it."""
        key = media_key(kind, message_id, mime_type)
        if owner:
            await self.index.aadd(owner, key)
        await asyncio.to_thread(
            self.s3.put_object, Bucket=self.bucket, Key=key, Body=content, ContentType=mime_type
        )
        return key


class Transcriber:
    """Amazon Transcribe on a stored voice note; returns the text (or raises on failure)."""

    def __init__(
        self,
        transcribe: Any,
        bucket: str,
        timeout: float = 120.0,
        *,
        s3: Any = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.client = transcribe
        self.bucket = bucket
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self.s3 = s3 or boto3.session.Session().client(
            "s3", region_name=transcribe.meta.region_name
        )

    @staticmethod
    def output_key(job: str) -> str:
        return f"transcripts/{job}.json"

    def transcribe(self, key: str, language: str | None = None, owner: str | None = None) -> str:
        """With `owner`, the transcript (the person's words) is indexed under them first."""
        job = f"wam-{int(time.time() * 1000)}-{abs(hash(key)) % 10**8}"
        if owner:
            MediaIndex(self.s3, self.bucket).add(owner, self.output_key(job))
        options: dict[str, Any] = {
            "IdentifyLanguage": True,
            "LanguageOptions": ["en-US", "es-US", "es-ES"],
        }
        if language:
            options = {"LanguageCode": "es-US" if language == "es" else "en-US"}
        self.client.start_transcription_job(
            TranscriptionJobName=job,
            Media={"MediaFileUri": f"s3://{self.bucket}/{key}"},
            OutputBucketName=self.bucket,
            OutputKey=self.output_key(job),
            **options,
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            status = self.client.get_transcription_job(TranscriptionJobName=job)
            state = status["TranscriptionJob"]["TranscriptionJobStatus"]
            if state == "COMPLETED":
                return self._read_transcript(job)
            if state == "FAILED":
                raise RuntimeError(status["TranscriptionJob"].get("FailureReason", "failed"))
            time.sleep(self.poll_seconds)
        raise TimeoutError(f"transcription {job} did not finish in {self.timeout:.0f}s")

    def _read_transcript(self, job: str) -> str:
        """The transcript Transcribe wrote to our bucket, read with signed S3 calls."""
        response = self.s3.get_object(Bucket=self.bucket, Key=self.output_key(job))
        document = json.loads(response["Body"].read())
        return str(document["results"]["transcripts"][0]["transcript"])

    async def atranscribe(
        self, key: str, language: str | None = None, owner: str | None = None
    ) -> str:
        return await asyncio.to_thread(self.transcribe, key, language, owner)
