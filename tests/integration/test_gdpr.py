"""Erasure and access (GDPR) end to end: a customer chats through the webhook (an image stored in
S3, a handoff to a person in the inbox), their day is exported to Parquet, then the admin API
erases them. Afterwards a scan of every Redis key and value, every item of every DynamoDB table and
every S3 object finds neither their number nor their user id; another customer is untouched; the
report's counts are what was stored; erasing again reports zero. Real app and workers, embedded
Redis, moto over HTTP, the Graph API stub."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from checkpointers import async_redis_saver
from server import create_app
from server.gdpr import PersonalDataService, _holds
from stores import aws_client, whatsapp_user_id
from stores.erasure import PersonalData, message_ids
from stores.export import export_conversations
from stores.media_index import subject_of
from stubs import BackgroundServer, sent_to
from tests.integration.conftest import WAM, new_wa_id, wam_env
from tests.integration.whatsapp import NUMBER, make_channel, message, payload, post, wait_for

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-tests"
INBOX = "inbox-token-for-gdpr-tests"


@pytest.fixture(scope="module")
def app(settings, stores, demo, graph_api) -> Iterator[str]:
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1)
    channel.config = channel.config.__class__(
        **{
            **channel.config.__dict__,
            "admin_token": ADMIN,
            "inbox_token": INBOX,
            "local_mode": False,
            "s3_bucket": settings.s3_bucket,
        }
    )
    server = BackgroundServer(create_app(channel))
    server.start()
    yield server.url
    server.stop()


def _inbox(base: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {INBOX}"}
    return httpx.request(method, f"{base}/inbox/api{path}", headers=headers, timeout=30, **kwargs)


def _admin(base: str, method: str, wa_id: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {ADMIN}"}
    return httpx.request(method, f"{base}/admin/api/users/{wa_id}", headers=headers, timeout=60)


def _chat(base: str, stub: Any, wa_id: str, *, image: bool, handoff: bool) -> None:
    post(base, payload(message(wa_id, text={"body": "What are your opening hours?"})))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="the first reply")
    if image:
        stub.state.media[f"media-{wa_id}"] = (b"\x89PNG gdpr test", "image/png")
        photo = {"id": f"media-{wa_id}", "mime_type": "image/png", "caption": "my router"}
        post(base, payload(message(wa_id, "image", image=photo)))
        wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="the reply to the image")
    if handoff:
        thread = f"{NUMBER}:{wa_id}"
        post(base, payload(message(wa_id, text={"body": "I want to talk to a person"})))
        wait_for(
            lambda: _inbox(base, "GET", f"/conversations/{thread}").json()["state"] == "waiting",
            what="the conversation waiting for a person",
        )
        _inbox(base, "POST", f"/conversations/{thread}/take", json={"agent": "Marta"})
        sent = _inbox(base, "POST", f"/conversations/{thread}/messages", json={"text": "Hi!"})
        assert sent.status_code == 200
        _inbox(base, "POST", f"/conversations/{thread}/resolve")


def _redis_dump(client: Redis) -> dict[str, str]:
    """Every key of the server with its value as text."""
    dumped = {}
    for raw in client.scan_iter(count=1000):
        key = raw.decode("utf-8", "replace")
        kind = client.type(raw).decode()
        if kind == "string":
            value: Any = client.get(raw)
        elif kind == "hash":
            value = client.hgetall(raw)
        elif kind == "list":
            value = client.lrange(raw, 0, -1)
        elif kind == "set":
            value = client.smembers(raw)
        elif kind == "zset":
            value = client.zrange(raw, 0, -1)
        elif kind == "stream":
            value = client.xrange(raw)
        elif kind == "ReJSON-RL":
            value = client.json().get(key)
        else:
            value = kind
        dumped[key] = repr(value)
    return dumped


def _dynamodb_dump(settings) -> list[str]:
    client = aws_client("dynamodb", settings.aws_region)
    items = []
    for table in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=table):
            items += [f"{table} {json.dumps(item)}" for item in page["Items"]]
    return items


def _s3_dump(settings) -> list[str]:
    s3 = aws_client("s3", settings.aws_region)
    objects = []
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                if obj["Key"].endswith(".parquet"):
                    body = json.dumps(pq.read_table(io.BytesIO(body)).to_pylist()).encode()
                objects.append(f"{bucket['Name']}/{obj['Key']} {body.decode('utf-8', 'replace')}")
    return objects


def _mentions(texts: list[str] | dict[str, str], wa_id: str) -> list[str]:
    entries = [f"{k} {v}" for k, v in texts.items()] if isinstance(texts, dict) else texts
    needles = (wa_id, whatsapp_user_id(wa_id))
    return [entry[:200] for entry in entries if any(n in entry for n in needles)]


def _service(settings, stores, redis: AsyncRedis) -> PersonalDataService:
    assert settings.redis_url
    url = settings.redis_url
    return PersonalDataService(
        redis=redis,
        data=PersonalData(
            stores.dynamodb,
            aws_client("s3", settings.aws_region),
            settings.s3_bucket,
            settings.table_prefix,
        ),
        open_saver=lambda: async_redis_saver(url, settings.session_ttl_minutes),
        accounts=[NUMBER],
    )


async def _erase_until(settings, stores, wa_id: str, step: str) -> dict[str, Any]:
    client = AsyncRedis.from_url(settings.redis_url)
    try:
        return await _service(settings, stores, client).erase(wa_id, stop_after=step)
    finally:
        await client.aclose()


def test_a_customer_is_erased_everywhere_and_only_them(
    app, graph_api, settings, stores, servers
) -> None:
    stub, _ = graph_api
    person, other = new_wa_id(), new_wa_id()
    _chat(app, stub, person, image=True, handoff=True)
    _chat(app, stub, other, image=True, handoff=False)
    assert stores.profiles is not None
    # Every bot reply is counted (in the background) before the erasure starts.
    for who, turns in ((person, 3), (other, 2)):
        wait_for(
            lambda w=who, t=turns: (stores.profiles.get(w) or {}).get("total_turns") == t,
            what="the profile counting every answered turn",
        )
    s3 = aws_client("s3", settings.aws_region)
    today = datetime.now(UTC).date()
    export = export_conversations(
        stores.dynamodb,
        s3,
        table=settings.conversations_table,
        bucket=settings.s3_bucket,
        day=today,
        default_account=NUMBER,
    )
    exported = pq.read_table(
        io.BytesIO(s3.get_object(Bucket=export.bucket, Key=export.key)["Body"].read())
    )
    exported_rows = exported.column("user_id").to_pylist().count(whatsapp_user_id(person))

    # What is stored about the person, counted on our own.
    data = PersonalData(stores.dynamodb, s3, settings.s3_bucket, settings.table_prefix)
    items = data.conversation_items(person)
    media = data.media_entries(person)
    assert len(media) == 1 and all(v.startswith("media/images/") for v in media.values())
    assert any(i.get("role") == "human_agent" for i in items)
    assert any(i.get("confidence_score") is not None for i in items)
    # Sent replies name Meta's ids, so their alias guards are found without scanning the table.
    assert any(i.get("wamids") for i in items)
    quick = PersonalData(
        stores.dynamodb, s3, settings.s3_bucket, settings.table_prefix, scan_guards=False
    )
    guards = data.guard_items(person, message_ids(items))
    assert len(guards) > len(items) - 2  # the handoff records have guards too
    assert quick.guard_items(person, message_ids(items)) == guards
    other_items = data.conversation_items(other)
    redis = Redis.from_url(settings.redis_url)
    before = _redis_dump(redis)
    other_keys = {k for k in before if other in k}
    assert any(k.startswith("checkpoint") for k in other_keys)
    assert _mentions(before, person)
    named = [k for k in before if _holds(k, person)]
    checkpoint_keys = [k for k in named if k.startswith("checkpoint")]

    # Access: everything, as JSON; the admin API needs its token.
    assert httpx.get(f"{app}/admin/api/users/{person}").status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert httpx.delete(f"{app}/admin/api/users/{person}", headers=wrong).status_code == 401
    access = _admin(app, "GET", person).json()
    assert len(access["dynamodb"]["conversations"]) == len(items)
    assert access["dynamodb"]["profile"]["total_conversations"] >= 1
    assert [m["key"] for m in access["s3"]["media"]] == sorted(media.values())
    assert access["redis"]["sessions"][f"{NUMBER}:{person}"]
    assert any("handoff" in key for key in access["redis"]["keys"])

    # A crash midway (after S3 media), then the API finishes the job.
    partial = asyncio.run(_erase_until(settings, stores, person, "s3_media"))
    assert not partial["complete"] and partial["deleted"]["s3"]["media"] == 1
    response = _admin(app, "DELETE", f"+{person}")
    assert response.status_code == 200
    report = response.json()
    assert report["complete"] and report["subject"] == subject_of(person)
    assert report["deleted"]["dynamodb"]["conversations"] == len(items)
    assert report["deleted"]["dynamodb"]["profiles"] == 1
    assert report["deleted"]["dynamodb"]["message_guards"] == len(guards)
    assert report["deleted"]["s3"] == {
        "media": 1,
        "media_index": 1,
        "export_files": 1,
        "export_rows": exported_rows,
        "export_files_archived": 0,
    }
    assert report["deleted"]["redis"]["checkpoint_threads"] == 1
    assert report["deleted"]["redis"]["checkpoint_keys"] == len(checkpoint_keys)
    assert report["deleted"]["redis"]["keys"] == len(named) - len(checkpoint_keys)
    assert {"handoff", "optin"} <= {k.split(":")[1] for k in named}
    assert report["deleted"]["redis"]["handoff_index_entries"] == 1

    # Nothing anywhere names the person; the other customer is untouched.
    after = _redis_dump(redis)
    assert _mentions(after, person) == []
    assert _mentions(_dynamodb_dump(settings), person) == []
    assert _mentions(_s3_dump(settings), person) == []
    assert other_keys <= set(after)
    assert len(data.conversation_items(other)) == len(other_items)
    assert len(data.media_entries(other)) == 1
    assert stores.profiles.get(other) is not None

    # Erasing again finds nothing.
    again = _admin(app, "DELETE", person).json()
    assert again["complete"] and again["total"] == 0
    assert _admin(app, "DELETE", "not-a-number").status_code == 422
    redis.close()


def test_the_cli_erases_and_exports_a_person(app, graph_api, settings, stores, servers) -> None:
    stub, _ = graph_api
    person = new_wa_id()
    _chat(app, stub, person, image=False, handoff=False)
    assert stores.profiles is not None
    wait_for(lambda: stores.profiles.get(person), what="the profile")
    env = wam_env(
        settings, servers, servers.data_dir, WHATSAPP_PHONE_NUMBER_ID=NUMBER, LOG_LEVEL="INFO"
    )
    exported = subprocess.run(
        [*WAM, "gdpr", "export", "--user", f"+{person}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    access = json.loads(exported.stdout)
    assert access["whatsapp_number"] == f"+{person}" and access["dynamodb"]["conversations"]
    erased = subprocess.run(
        [*WAM, "gdpr", "delete", "--user", f"+{person}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    report = json.loads(erased.stdout)
    assert report["deleted"]["dynamodb"]["conversations"] == len(
        access["dynamodb"]["conversations"]
    )
    assert "personal data erased" in erased.stderr and subject_of(person) in erased.stderr
    assert person not in erased.stderr  # the audit line names a pseudonym, never the number
    assert stores.conversations.user_messages(whatsapp_user_id(person)) == []
