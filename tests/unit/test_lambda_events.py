"""The shapes Lambda hands the handlers, parsed without any server."""

from __future__ import annotations

import base64
import json
from datetime import date

from lambdas.daily_jobs import day_of
from lambdas.http import HttpRequest, response
from lambdas.kb_manager import document_of
from server.sqs import SqsMessage, deduplication_id


def test_an_http_api_event_gives_the_raw_body_and_lower_case_headers() -> None:
    raw = '{"a": "ñ"}'.encode()
    event = {
        "requestContext": {"http": {"method": "post", "path": "/webhook"}},
        "rawPath": "/webhook",
        "headers": {"X-Hub-Signature-256": "sha256=x"},
        "queryStringParameters": {"hub.mode": "subscribe"},
        "body": base64.b64encode(raw).decode(),
        "isBase64Encoded": True,
    }
    request = HttpRequest.from_event(event)
    assert request.method == "POST" and request.body == raw
    assert request.headers == {"x-hub-signature-256": "sha256=x"}
    assert request.query == {"hub.mode": "subscribe"}
    plain = HttpRequest.from_event({**event, "body": '{"a": "ñ"}', "isBase64Encoded": False})
    assert plain.body == raw and HttpRequest.from_event({}).body == b""


def test_responses_are_json_or_plain_text() -> None:
    assert json.loads(response(200, {"status": "ok"})["body"]) == {"status": "ok"}
    text = response(403, "verification failed")
    assert text["headers"]["content-type"].startswith("text/plain")


def test_sqs_records_parse_and_a_malformed_body_is_kept_for_the_dlq() -> None:
    body = json.dumps(
        {"message_id": "m1", "phone_number_id": "1" * 15, "wa_id": "155", "text": "hi"}
    )
    attributes = {"ApproximateReceiveCount": "3", "MessageGroupId": "g"}
    message = SqsMessage.parse(body, "r", "id-1", attributes)
    assert message.item is not None and message.item.text == "hi"
    assert (message.receives, message.group) == (3, "g")
    assert SqsMessage.parse("not json", "r", "id-2", attributes).item is None
    assert SqsMessage.parse('{"text": "no ids"}', "r", "id-3", attributes).item is None


def test_deduplication_ids_are_what_sqs_accepts() -> None:
    assert deduplication_id("wamid.HBgL") == "wamid.HBgL"
    for odd in ("x" * 200, "with space", "ñ"):
        made = deduplication_id(odd)
        assert len(made) == 64 and made.isalnum()


def test_the_daily_jobs_run_the_day_before_the_schedule() -> None:
    assert day_of({"time": "2026-01-01T02:30:00Z"}) == date(2025, 12, 31)
    assert day_of({"day": "2026-03-04"}) == date(2026, 3, 4)


def test_only_objects_under_kb_documents_are_documents() -> None:
    def record(key: str) -> dict[str, object]:
        return {"s3": {"bucket": {"name": "b"}, "object": {"key": key}}}

    assert document_of(record("kb-documents/faq/Return+policy.md")) == (
        "b",
        "kb-documents/faq/Return policy.md",
        "faq",
    )
    assert document_of(record("media/audio/x.ogg")) is None
    assert document_of(record("kb-documents/loose.md")) is None
