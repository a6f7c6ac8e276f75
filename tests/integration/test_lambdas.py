"""The AWS shape end to end, locally: the Lambda handlers invoked as Lambda invokes them.

A signed API Gateway HTTP API (v2) event goes into the webhook handler, which queues on moto's SQS
FIFO; the test then plays Lambda's SQS poller (ReceiveMessage, an SQS event of those records, and
DeleteMessage for every record not in `batchItemFailures`) for the orchestrator handler, whose
reply reaches the Graph API stub. The app secret comes from moto's Secrets Manager; Redis is the
embedded one, DynamoDB and S3 are moto's.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas import container, kb_manager, orchestrator, voice_processor, webhook_handler
from server.media import Transcriber
from server.notifications import signature_for
from stores import aws_client
from stubs.graph_api import sent_to, text_of
from tests.integration.conftest import new_wa_id
from tests.integration.sqs import new_queue
from tests.integration.whatsapp import NUMBER, message, payload

pytestmark = pytest.mark.integration
SECRET = "lambda-app-secret"


@pytest.fixture
def lambda_env(settings, servers, demo, graph_api, sqs_endpoint, tmp_path) -> Iterator[str]:
    """A 'container' configured as the CDK app configures the functions; yields the queue URL."""
    queue_url, _ = new_queue(visibility_timeout_s=5, max_receives=3)
    voice_url = aws_client("sqs", "us-east-1").create_queue(QueueName=f"voice-{tmp_path.name}")[
        "QueueUrl"
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", servers.aws.url)
        patch.setenv("AWS_ENDPOINT_URL_TRANSCRIBE", servers.aws.url)
        secrets = aws_client("secretsmanager", "us-east-1")
        arn = secrets.create_secret(Name=f"wa-{tmp_path.name}", SecretString=SECRET)["ARN"]
        for name, value in {
            "REDIS_URL": settings.redis_url,
            "TABLE_PREFIX": settings.table_prefix,
            "QUEUE_BACKEND": "sqs",
            "SQS_QUEUE_URL": queue_url,
            "SQS_VOICE_QUEUE_URL": voice_url,
            "WHATSAPP_APP_SECRET_ARN": arn,
            "WHATSAPP_API_BASE_URL": graph_api[1],
            "WHATSAPP_ACCESS_TOKEN": "test-token",
            "WHATSAPP_PHONE_NUMBER_ID": NUMBER,
            "MODEL_PROVIDER": "offline",
            "BURST_WINDOW_MS": "300",
            "DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
        }.items():
            patch.setenv(name, value)
        container.reset()
        try:
            yield queue_url
        finally:
            container.reset()


def http_event(method: str, body: bytes = b"", **extra: Any) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event, the body base64-encoded as API Gateway does."""
    return {
        "version": "2.0",
        "routeKey": f"{method} /webhook",
        "rawPath": "/webhook",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **extra.pop("headers", {})},
        "requestContext": {"http": {"method": method, "path": "/webhook"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        **extra,
    }


def signed(body: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    return http_event("POST", raw, headers={"X-Hub-Signature-256": signature_for(raw, secret)})


def poll_once(queue_url: str, handler: Any = orchestrator.handler) -> tuple[int, dict[str, Any]]:
    """One poll of Lambda's SQS event source: receive, invoke, delete what did not fail."""
    client = aws_client("sqs", "us-east-1")
    got = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
    ).get("Messages", [])
    if not got:
        return 0, {"batchItemFailures": []}
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in got
        ]
    }
    result = handler(event)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in got:
        if m["MessageId"] not in failed:
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return len(got), result


def poll_until(queue_url: str, done: Any, polls: int = 20) -> None:
    for _ in range(polls):
        poll_once(queue_url)
        if done():
            return
    raise AssertionError("not done after polling")


def test_webhook_handler_verifies_and_checks_signatures(lambda_env) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "dev-verify-token", "hub.challenge": "42"}
    answer = webhook_handler.handler(http_event("GET", queryStringParameters=query))
    assert answer["statusCode"] == 200 and answer["body"] == "42"
    wrong = webhook_handler.handler(
        http_event("GET", queryStringParameters={**query, "hub.verify_token": "x"})
    )
    assert wrong["statusCode"] == 403
    body = payload(message(new_wa_id()))
    assert webhook_handler.handler(signed(body, secret="dev-app-secret"))["statusCode"] == 403
    assert (
        webhook_handler.handler(http_event("POST", json.dumps(body).encode()))["statusCode"] == 401
    )


def test_a_signed_message_goes_through_sqs_to_the_orchestrator_and_is_answered_once(
    lambda_env, graph_api
) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    first = message(wa_id, text={"body": "What are your opening hours?"})
    answer = webhook_handler.handler(signed(payload(first)))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["queued"] == 1
    assert json.loads(webhook_handler.handler(signed(payload(first)))["body"])["queued"] == 0
    poll_until(lambda_env, lambda: sent_to(stub, wa_id))
    assert "Monday to Friday" in text_of(sent_to(stub, wa_id)[0])
    # Lambda redelivers the same record (its delete was lost): no second reply.
    client = aws_client("sqs", "us-east-1")
    client.send_message(
        QueueUrl=lambda_env,
        MessageBody=json.dumps(
            {"message_id": first["id"], "phone_number_id": NUMBER, "wa_id": wa_id, "text": "x"}
        ),
        MessageGroupId=f"{NUMBER}:{wa_id}",
        MessageDeduplicationId="redelivered-" + first["id"][-20:],
    )
    received, result = poll_once(lambda_env)
    assert received == 1 and result == {"batchItemFailures": []}
    assert len(sent_to(stub, wa_id)) == 1


def test_only_the_failed_messages_come_back(lambda_env, graph_api) -> None:
    stub, _ = graph_api
    client = aws_client("sqs", "us-east-1")
    client.send_message(
        QueueUrl=lambda_env,
        MessageBody="not a queued item",
        MessageGroupId="broken",
        MessageDeduplicationId="broken-1",
    )
    wa_id = new_wa_id()
    webhook_handler.handler(signed(payload(message(wa_id, text={"body": "hello"}))))
    received, result = poll_once(lambda_env)
    assert received == 2
    assert len(result["batchItemFailures"]) == 1
    assert sent_to(stub, wa_id), "the good message was answered in the same batch"


def _transcribe_as(text: str, bucket: str, stop: threading.Event) -> None:
    """Stands in for Transcribe's output (moto runs the job but writes no transcript)."""
    transcribe, s3 = aws_client("transcribe", "us-east-1"), aws_client("s3", "us-east-1")
    while not stop.is_set():
        for job in transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]:
            name = job["TranscriptionJobName"]
            document = {"jobName": name, "results": {"transcripts": [{"transcript": text}]}}
            s3.put_object(
                Bucket=bucket, Key=Transcriber.output_key(name), Body=json.dumps(document)
            )
        stop.wait(0.05)


def test_a_voice_note_is_transcribed_by_the_voice_processor_and_answered(
    lambda_env, graph_api, settings
) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    media_id = f"media-voice-{uuid.uuid4().hex[:8]}"
    stub.state.media[media_id] = (b"OggS voice", "audio/ogg")
    note = message(wa_id, "audio", audio={"id": media_id, "mime_type": "audio/ogg", "voice": True})
    assert json.loads(webhook_handler.handler(signed(payload(note)))["body"])["queued"] == 1
    stop = threading.Event()
    writer = threading.Thread(
        target=_transcribe_as,
        args=("What are your opening hours?", settings.s3_bucket, stop),
        daemon=True,
    )
    writer.start()
    try:
        voice_queue = container.settings().sqs_voice_queue_url
        assert voice_queue
        received, result = poll_once(voice_queue, voice_processor.handler)
        assert received == 1 and result == {"batchItemFailures": []}
    finally:
        stop.set()
        writer.join(5)
    poll_until(lambda_env, lambda: sent_to(stub, wa_id))
    assert "Monday to Friday" in text_of(sent_to(stub, wa_id)[0])


def test_a_document_put_under_kb_documents_is_indexed(lambda_env, settings) -> None:
    from redis import Redis

    from tools import LocalKnowledgeBase

    kb_id = f"lambda-kb-{uuid.uuid4().hex[:6]}"
    key = f"kb-documents/{kb_id}/warranty terms.md"
    aws_client("s3", "us-east-1").put_object(
        Bucket=settings.s3_bucket,
        Key=key,
        Body=b"# Warranty\n\nEvery speaker has a two-year warranty covering defects.",
    )
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                # S3 events carry the key URL-encoded (a space as '+').
                "s3": {
                    "bucket": {"name": settings.s3_bucket},
                    "object": {"key": key.replace(" ", "+")},
                },
            }
        ]
    }
    result = kb_manager.handler(event)
    assert result["documents"][0]["chunks"] >= 1
    base = LocalKnowledgeBase(Redis.from_url(settings.redis_url), kb_id)
    assert "two-year warranty" in base.retrieve("how long is the warranty?")[0].text


def test_an_end_user_messaging_number_is_answered_through_send_whatsapp_message(
    lambda_env, graph_api, tmp_path, monkeypatch
) -> None:
    """A second business account connected through AWS End User Messaging Social: its SNS event
    goes through the events handler, SQS and the orchestrator; the reply leaves through
    SendWhatsAppMessage (a local stub), never through the Graph API."""
    from lambdas import eum_handler
    from stubs import BackgroundServer, create_social_messaging_stub, eum_sent_to

    eum_number, eum_id = "100000000000777", f"phone-number-id-{uuid.uuid4().hex}"
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        f"- account_id: eum-business\n  account_name: EUM business\n"
        f"  phone_number_id: '{eum_number}'\n  channel: aws_eum\n"
        f"  eum_phone_number_id: {eum_id}\n"
    )
    stub = create_social_messaging_stub()
    server = BackgroundServer(stub)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SOCIALMESSAGING", server.url)
    monkeypatch.setenv("BUSINESS_ACCOUNTS_FILE", str(accounts))
    try:
        wa_id = new_wa_id()
        entry = payload(
            message(wa_id, text={"body": "What are your opening hours?"}), number=eum_number
        )
        notification = {
            "context": {
                "MetaWabaIds": [{"wabaId": "waba", "arn": "arn:aws:social-messaging:waba"}],
                "MetaPhoneNumberIds": [{"metaPhoneNumberId": eum_number, "arn": eum_id}],
            },
            "whatsAppWebhookEntry": json.dumps(entry["entry"][0]),
            "aws_account_id": "123456789012",
            "message_timestamp": "2026-11-22T08:00:00Z",
            "messageId": str(uuid.uuid4()),
        }
        event = {
            "Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(notification)}}]
        }
        assert eum_handler.handler(event) == {"queued": 1}
        poll_until(lambda_env, lambda: eum_sent_to(stub, wa_id))
        reply = eum_sent_to(stub, wa_id)[0]
        assert reply["origination"] == eum_id and "Monday to Friday" in text_of(reply)
        assert not graph_api[0].state.sent or not sent_to(graph_api[0], wa_id)
    finally:
        server.stop()


def test_the_daily_jobs_export_the_day_and_write_its_metrics(
    lambda_env, graph_api, settings
) -> None:
    from datetime import UTC, datetime

    from lambdas import daily_jobs

    stub, _ = graph_api
    wa_id = new_wa_id()
    webhook_handler.handler(signed(payload(message(wa_id, text={"body": "hello"}))))
    poll_until(lambda_env, lambda: sent_to(stub, wa_id))
    today = datetime.now(UTC).date().isoformat()
    done = daily_jobs.handler({"day": today})
    assert done["day"] == today and done["rows"] >= 2
    s3 = aws_client("s3", "us-east-1")
    metrics = json.loads(
        s3.get_object(Bucket=settings.s3_bucket, Key=done["metrics"])["Body"].read()
    )
    assert metrics["date"] == today
    scheduled = daily_jobs.day_of({"time": "2026-11-22T02:30:00Z", "source": "aws.events"})
    assert scheduled.isoformat() == "2026-11-21"


def test_a_thread_held_by_a_person_is_not_answered_by_the_orchestrator(
    lambda_env, graph_api, stores, settings
) -> None:
    """The orchestrator's worker has the handoff service: while a person holds the thread the
    bot stays silent and the customer's words go to the person's transcript."""
    import asyncio

    from redis.asyncio import Redis as AsyncRedis

    from server.handoff import Handoff

    stub, _ = graph_api
    wa_id = new_wa_id()

    async def hold() -> None:
        redis = AsyncRedis.from_url(settings.redis_url)
        try:
            handoff = Handoff(redis, stores)
            record = await handoff.record(NUMBER, wa_id)
            await handoff.change(record, "assigned", agent="ana")
        finally:
            await redis.aclose()

    asyncio.run(hold())
    text = "Are you still there? I need the invoice"
    webhook_handler.handler(signed(payload(message(wa_id, text={"body": text}))))
    received, result = poll_once(lambda_env)
    assert received == 1 and result == {"batchItemFailures": []}

    async def transcript() -> list[str]:
        redis = AsyncRedis.from_url(settings.redis_url)
        try:
            handoff = Handoff(redis, stores)
            return [e.text for e in await handoff.store.transcript(f"{NUMBER}:{wa_id}")]
        finally:
            await redis.aclose()

    assert text in asyncio.run(transcript())
    assert not sent_to(stub, wa_id), "the bot answered a thread a person holds"
