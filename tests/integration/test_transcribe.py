"""Voice notes through Amazon Transcribe (moto's server), the transcript read with signed S3 calls.

moto runs the job but does not write the transcript file; a thread stands in for Transcribe and
writes `transcripts/<job>.json` to the bucket once the job exists. The job's `TranscriptFileUri`
points at s3.amazonaws.com, which this machine cannot reach: an unauthenticated HTTP GET of it
fails, the SDK read of the output key succeeds.
"""

from __future__ import annotations

import json
import threading
import uuid

import boto3
import pytest

from app.settings import Settings
from server.media import Transcriber
from stores import aws_client, ensure_bucket

pytestmark = pytest.mark.integration


def _write_transcripts_when_jobs_start(
    transcribe: object, s3: object, bucket: str, text: str, stop: threading.Event
) -> None:
    while not stop.is_set():
        for job in transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]:  # type: ignore[attr-defined]
            name = job["TranscriptionJobName"]
            document = {"jobName": name, "results": {"transcripts": [{"transcript": text}]}}
            s3.put_object(  # type: ignore[attr-defined]
                Bucket=bucket, Key=Transcriber.output_key(name), Body=json.dumps(document)
            )
        stop.wait(0.05)


def test_a_voice_note_is_transcribed_and_read_back_with_the_sdk(servers, settings: Settings):
    bucket = f"voice-{uuid.uuid4().hex[:8]}"
    s3 = aws_client("s3", settings.aws_region)
    transcribe = boto3.client(
        "transcribe", region_name=settings.aws_region, endpoint_url=servers.aws.url
    )
    ensure_bucket(s3, bucket, settings.aws_region)
    s3.put_object(Bucket=bucket, Key="media/audio/note.ogg", Body=b"OggS voice")
    stop = threading.Event()
    writer = threading.Thread(
        target=_write_transcripts_when_jobs_start,
        args=(transcribe, s3, bucket, "quiero cambiar mi plan", stop),
        daemon=True,
    )
    writer.start()
    try:
        transcriber = Transcriber(transcribe, bucket, timeout=30, s3=s3, poll_seconds=0.1)
        assert transcriber.transcribe("media/audio/note.ogg", "es") == "quiero cambiar mi plan"
    finally:
        stop.set()
        writer.join(5)
