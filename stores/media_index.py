"""The index of the media stored for each person, so an erasure finds every object.

Media keys (`media/<type>/<yyyy>/<mm>/<dd>/<message id>.<ext>`, the seed's layout) do not name the
person. Before a media object is written, an index object is: `media-index/<subject>/<digest>`,
whose body is the media key. `<subject>` is a SHA-256 of the WhatsApp number (the number itself
never appears in a key), so listing one prefix finds all of a person's media.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from botocore.exceptions import ClientError

INDEX_PREFIX = "media-index/"


def subject_of(wa_id: str) -> str:
    """A stable pseudonym of a WhatsApp number (digits only, with or without `+`/`whatsapp:`)."""
    digits = wa_id.removeprefix("whatsapp:").lstrip("+")
    return hashlib.sha256(f"wam-subject:{digits}".encode()).hexdigest()[:40]


def index_key(wa_id: str, media_key: str) -> str:
    digest = hashlib.sha256(media_key.encode()).hexdigest()[:24]
    return f"{INDEX_PREFIX}{subject_of(wa_id)}/{digest}"


class MediaIndex:
    """Reads and writes the per-person media index in the data bucket."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def add(self, wa_id: str, media_key: str) -> str:
        key = index_key(wa_id, media_key)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=media_key.encode())
        return key

    def entries(self, wa_id: str) -> dict[str, str]:
        """Index object key -> media key, for every media object of the person."""
        found: dict[str, str] = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        prefix = f"{INDEX_PREFIX}{subject_of(wa_id)}/"
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                    found[obj["Key"]] = body.decode()
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise
        return found  # no bucket yet: nothing stored

    async def aadd(self, wa_id: str, media_key: str) -> str:
        return await asyncio.to_thread(self.add, wa_id, media_key)
