"""The DynamoDB conversation log over HTTP (moto server): appends, queries, idempotency."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from stores import ConversationMessage, Stores, whatsapp_user_id

pytestmark = pytest.mark.integration


def _message(user: str, session: str, text: str, **extra) -> ConversationMessage:
    return ConversationMessage(
        user_id=user,
        session_id=session,
        message_id=extra.pop("message_id", f"wamid.{uuid.uuid4().hex}"),
        direction=extra.pop("direction", "inbound"),
        role=extra.pop("role", "user"),
        content=text,
        **extra,
    )


def _new_user() -> str:
    return whatsapp_user_id(str(15550000000 + uuid.uuid4().int % 10_000_000))


def test_append_then_query_by_user_and_by_session(stores: Stores) -> None:
    log = stores.conversations
    user = _new_user()
    first, second = f"s-{uuid.uuid4().hex}", f"s-{uuid.uuid4().hex}"
    log.append(_message(user, first, "hola"))
    log.append(
        _message(
            user,
            first,
            "¡Hola! ¿En qué te ayudo?",
            direction="outbound",
            role="assistant",
            agent_id="general",
            model_id="offline",
            processing_time_ms=12,
            tokens_used=30,
        )
    )
    log.append(_message(user, second, "precio del plan premium"))

    history = log.recent_history(user, limit=10)
    assert [m.content for m in history] == [
        "hola",
        "¡Hola! ¿En qué te ayudo?",
        "precio del plan premium",
    ]
    assert history[1].agent_id == "general" and history[1].tokens_used == 30
    assert [m.content for m in log.recent_history(user, limit=2)] == [
        "¡Hola! ¿En qué te ayudo?",
        "precio del plan premium",
    ]
    assert [m.content for m in log.session_messages(first)] == ["hola", "¡Hola! ¿En qué te ayudo?"]
    assert [m.content for m in log.session_messages(second)] == ["precio del plan premium"]
    assert all(m.ttl and m.ttl > time.time() + 29 * 86_400 for m in history)


def test_duplicate_message_id_is_written_once(stores: Stores) -> None:
    log = stores.conversations
    user, session = _new_user(), f"s-{uuid.uuid4().hex}"
    message = _message(user, session, "first delivery", message_id="wamid.dup-" + uuid.uuid4().hex)
    assert log.append(message) is True
    redelivered = message.model_copy(update={"timestamp": "2030-01-01T00:00:00.000Z"})
    assert log.append(redelivered) is False
    assert [m.content for m in log.user_messages(user)] == ["first delivery"]


def test_messages_in_the_same_millisecond_all_kept_in_order(stores: Stores) -> None:
    log = stores.conversations
    user, session = _new_user(), f"s-{uuid.uuid4().hex}"
    moment = "2026-01-15T10:30:00.000Z"
    for text in ("one", "two", "three"):
        assert log.append(_message(user, session, text, timestamp=moment))
    messages = log.user_messages(user)
    assert [m.content for m in messages] == ["one", "two", "three"]
    assert [m.timestamp for m in messages] == [
        "2026-01-15T10:30:00.000Z",
        "2026-01-15T10:30:00.001Z",
        "2026-01-15T10:30:00.002Z",
    ]


def test_status_update_finds_the_message_by_id(stores: Stores) -> None:
    log = stores.conversations
    user = _new_user()
    message = _message(user, "s-status", "sent text", direction="outbound", role="assistant")
    log.append(message)
    assert log.update_status(message.message_id, "delivered") is True
    stored = log.get(message.message_id)
    assert stored is not None and stored.status == "delivered"
    assert log.update_status("wamid.unknown", "read") is False


def test_delete_user_removes_messages_and_allows_reuse_of_ids(stores: Stores) -> None:
    log = stores.conversations
    user, other = _new_user(), _new_user()
    ids = [f"wamid.{uuid.uuid4().hex}" for _ in range(30)]
    for i, message_id in enumerate(ids):
        log.append(_message(user, "s-gdpr", f"message {i}", message_id=message_id))
    log.append(_message(other, "s-other", "keep me"))
    assert log.delete_user(user) == 30
    assert log.user_messages(user) == []
    assert log.get(ids[0]) is None
    assert [m.content for m in log.user_messages(other)] == ["keep me"]


async def test_async_calls_do_not_block_the_event_loop(stores: Stores) -> None:
    log = stores.conversations
    user, session = _new_user(), f"s-{uuid.uuid4().hex}"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    results = await asyncio.gather(
        *(log.aappend(_message(user, session, f"m{i}")) for i in range(8))
    )
    history = await log.asession_messages(session)
    task.cancel()
    assert all(results) and len(history) == 8
    assert ticks > 8, "the event loop did not run while DynamoDB calls were in flight"


def test_invalid_messages_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="content"):
        _message("whatsapp:+15550001", "s", "   ")
    with pytest.raises(ValueError, match="timestamp"):
        _message("whatsapp:+15550001", "s", "hi", timestamp="yesterday")
    with pytest.raises(ValueError, match="timezone"):
        _message("whatsapp:+15550001", "s", "hi", timestamp="2026-01-01T10:00:00")
    with pytest.raises(ValueError, match="user_id"):
        _message("+15550001", "s", "hi")


def test_a_guard_left_by_a_crash_is_repaired_on_retry(stores: Stores) -> None:
    """A crash after the guard was claimed but before the item was written loses nothing."""
    from stores.codec import to_item

    log = stores.conversations
    user, session = _new_user(), f"s-{uuid.uuid4().hex}"
    message = _message(user, session, "half written", timestamp="2026-02-01T08:00:00.000Z")
    stores.dynamodb.put_item(  # exactly what append writes first
        TableName=log.table,
        Item=to_item(
            {
                "user_id": f"msgid#{message.message_id}",
                "timestamp": "guard",
                "item_user_id": user,
                "item_timestamp": message.timestamp,
            }
        ),
    )
    assert log.user_messages(user) == []
    assert log.append(message) is True
    assert [m.content for m in log.user_messages(user)] == ["half written"]
    assert log.append(message) is False
    assert len(log.user_messages(user)) == 1
