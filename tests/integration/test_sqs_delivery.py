"""The SQS FIFO backend's delivery guarantees on moto's SQS and the embedded Redis: order per
customer with several consumers, bursts, redelivery after a failure, poison messages to the DLQ,
input that can never succeed answered once. The turn itself is a recording function here; the
channel tests (test_sqs_channel.py) run the real graph."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from redis.asyncio import Redis

from server.queue import InboundItem, queue_fields
from server.sqs import SqsQueue
from server.sqs_consumer import ConsumerSettings, SqsConsumer
from server.sqs_turns import GroupTurns, TurnPolicy
from server.worker import is_permanent
from stores import aws_client
from tests.integration.sqs import dlq_bodies, new_queue

pytestmark = pytest.mark.integration


class Recorder:
    """A turn that records what it answered, optionally slow or failing."""

    def __init__(self, seconds: float = 0.0, fail: dict[str, int] | None = None) -> None:
        self.seconds = seconds
        self.fail = dict(fail or {})  # message text -> failures left (-1: always)
        self.turns: list[list[str]] = []
        self.by_thread: dict[str, list[list[str]]] = defaultdict(list)
        self.running: set[str] = set()
        self.overlaps = 0
        self.abandoned: list[tuple[list[str], str]] = []

    async def answer(self, items: list[InboundItem]) -> None:
        thread = items[-1].thread_id
        if thread in self.running:
            self.overlaps += 1
        self.running.add(thread)
        try:
            await asyncio.sleep(self.seconds)
            for item in items:
                left = self.fail.get(item.text, 0)
                if left == -2:
                    raise ParamValidationError(report="never valid")
                if left:
                    self.fail[item.text] = left - 1 if left > 0 else -1
                    raise RuntimeError(f"turn failed for {item.text}")
            texts = [item.text for item in items]
            self.turns.append(texts)
            self.by_thread[thread].append(texts)
        finally:
            self.running.discard(thread)

    async def abandon(self, items: list[InboundItem], error: BaseException) -> None:
        self.abandoned.append(([item.text for item in items], type(error).__name__))


@pytest.fixture
async def redis(settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


def fields(wa_id: str, text: str, number: str = "100000000000001") -> tuple[str, dict[str, str]]:
    message_id = f"wamid.in.{uuid.uuid4().hex}"
    return message_id, queue_fields(
        message_id=message_id, phone_number_id=number, wa_id=wa_id, type="text", text=text
    )


async def consume_until(
    queue: SqsQueue,
    recorder: Recorder,
    done: Any,
    *,
    consumers: int = 1,
    policy: TurnPolicy | None = None,
    within_s: float = 30.0,
) -> None:
    """Run `consumers` consumers until `done()` holds (or fail after `within_s`)."""
    stop = asyncio.Event()
    policy = policy or TurnPolicy(burst_window_ms=0, retry_backoff_s=0)
    runners = [
        SqsConsumer(
            queue,
            GroupTurns(
                queue,
                answer=recorder.answer,
                abandon=recorder.abandon,
                is_permanent=is_permanent,
                policy=policy,
            ),
            settings=ConsumerSettings(visibility_timeout_s=3, wait_seconds=1),
        )
        for _ in range(consumers)
    ]
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    deadline = time.monotonic() + within_s
    try:
        while not done():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_each_customer_in_order_one_turn_at_a_time_across_consumers(
    sqs_endpoint, redis
) -> None:
    url, _ = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    customers = [f"1570{i:07d}" for i in range(3)]
    for n in range(4):
        for wa_id in customers:
            assert await queue.enqueue_once(*fields(wa_id, f"{wa_id}-{n}"))
    recorder = Recorder(seconds=0.1)
    await consume_until(queue, recorder, lambda: sum(map(len, recorder.turns)) == 12, consumers=2)
    assert recorder.overlaps == 0, "two turns of one customer ran at once"
    for wa_id in customers:
        turns = recorder.by_thread[f"100000000000001:{wa_id}"]
        answered = [text for turn in turns for text in turn]
        assert answered == [f"{wa_id}-{n}" for n in range(4)]
    assert await queue.depth() == 0


async def test_a_delivery_queued_twice_is_queued_once(sqs_endpoint, redis) -> None:
    url, _ = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    message_id, values = fields("15700000101", "hello")
    assert await queue.enqueue_once(message_id, values)
    assert await queue.enqueue_once(message_id, values) is None
    await redis.delete(f"wam:seen:{message_id}")  # Redis forgot it: SQS's own dedupe holds
    assert await queue.enqueue_once(message_id, values)
    recorder = Recorder()
    await consume_until(queue, recorder, lambda: recorder.turns)
    await asyncio.sleep(1.5)
    assert recorder.turns == [["hello"]]


async def test_messages_written_during_the_burst_window_are_one_turn(sqs_endpoint, redis) -> None:
    url, _ = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    recorder = Recorder()
    stop_after = asyncio.Event()

    async def write() -> None:
        for text in ("hi", "I was charged twice", "refund please"):
            await queue.enqueue_once(*fields("15700000202", text))
            await asyncio.sleep(0.3)
        stop_after.set()

    writer = asyncio.create_task(write())
    await consume_until(
        queue,
        recorder,
        lambda: stop_after.is_set() and recorder.turns,
        policy=TurnPolicy(burst_window_ms=800, retry_backoff_s=0),
    )
    await writer
    assert recorder.turns == [["hi", "I was charged twice", "refund please"]]


async def test_a_failed_turn_is_redelivered_and_answered(sqs_endpoint, redis) -> None:
    url, dlq = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    await queue.enqueue_once(*fields("15700000303", "flaky"))
    recorder = Recorder(fail={"flaky": 1})
    await consume_until(queue, recorder, lambda: recorder.turns)
    assert recorder.turns == [["flaky"]] and not recorder.abandoned
    assert dlq_bodies(dlq) == []


async def test_poison_messages_end_in_the_dead_letter_queue(sqs_endpoint, redis) -> None:
    url, dlq = new_queue(max_receives=3)
    client = aws_client("sqs", "us-east-1")
    queue = SqsQueue(client, url, redis)
    await queue.enqueue_once(*fields("15700000404", "always fails"))
    client.send_message(
        QueueUrl=url, MessageBody="not json", MessageGroupId="g", MessageDeduplicationId="bad-1"
    )
    await queue.enqueue_once(*fields("15700000405", "fine"))
    recorder = Recorder(fail={"always fails": -1})
    found: list[Any] = []

    def done() -> bool:
        found.extend(dlq_bodies(dlq))
        return len(found) >= 2

    await consume_until(queue, recorder, done)
    assert sorted(str(b) for b in found) == sorted(
        ["not json", str(next(b for b in found if isinstance(b, dict)))]
    )
    poisoned = next(b for b in found if isinstance(b, dict))
    assert poisoned["text"] == "always fails"
    # The customer heard once that a person will follow up (on the last receive).
    assert recorder.abandoned == [(["always fails"], "RuntimeError")]
    assert recorder.turns == [["fine"]]


async def test_input_that_can_never_succeed_is_answered_once_and_deleted(
    sqs_endpoint, redis
) -> None:
    url, dlq = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    await queue.enqueue_once(*fields("15700000506", "invalid"))
    recorder = Recorder(fail={"invalid": -2})
    await consume_until(queue, recorder, lambda: recorder.abandoned)
    await asyncio.sleep(1)
    assert recorder.abandoned == [(["invalid"], "ParamValidationError")]
    assert await queue.depth() == 0 and dlq_bodies(dlq) == []


async def test_a_consumer_that_dies_mid_turn_loses_nothing(sqs_endpoint, redis) -> None:
    """The first consumer receives and never finishes (killed); the message comes back after the
    visibility timeout and another consumer answers it."""
    url, _ = new_queue(visibility_timeout_s=2)
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    await queue.enqueue_once(*fields("15700000607", "lost?"))
    taken = await queue.receive(10, wait_seconds=1)  # the consumer that dies holds it
    assert [m.item.text for m in taken if m.item] == ["lost?"]
    started = time.monotonic()
    recorder = Recorder()
    await consume_until(queue, recorder, lambda: recorder.turns)
    assert recorder.turns == [["lost?"]]
    assert time.monotonic() - started >= 1.0, "answered before the visibility timeout"


async def test_a_stopped_consumer_hands_its_cut_turns_back_at_once(sqs_endpoint, redis) -> None:
    """SIGTERM: turns that do not finish within the grace are cut and their messages made visible
    again right away, so another consumer answers without waiting for the visibility timeout."""
    url, _ = new_queue(visibility_timeout_s=30)
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    await queue.enqueue_once(*fields("15700000708", "slow"))
    slow = Recorder(seconds=60)
    policy = TurnPolicy(burst_window_ms=0, retry_backoff_s=0)
    stop = asyncio.Event()
    first = SqsConsumer(
        queue,
        GroupTurns(queue, answer=slow.answer, abandon=slow.abandon, policy=policy),
        settings=ConsumerSettings(visibility_timeout_s=30, shutdown_grace_s=0.2),
    )
    running = asyncio.create_task(first.run(stop))
    deadline = time.monotonic() + 20
    while not slow.running:
        assert time.monotonic() < deadline, "the first consumer never started the turn"
        await asyncio.sleep(0.05)
    stop.set()
    await running
    stopped = time.monotonic()
    recorder = Recorder()
    await consume_until(queue, recorder, lambda: recorder.turns, within_s=20)
    assert recorder.turns == [["slow"]] and slow.turns == []
    assert time.monotonic() - stopped < 15, "waited for the visibility timeout"


async def test_a_claim_is_held_for_days_only_once_sqs_has_the_message(sqs_endpoint, redis) -> None:
    url, _ = new_queue()
    queue = SqsQueue(aws_client("sqs", "us-east-1"), url, redis)
    message_id, values = fields("15700000809", "hello")
    broken = SqsQueue(aws_client("sqs", "us-east-1"), url.replace(".fifo", "-gone.fifo"), redis)
    with pytest.raises(ClientError):
        await broken.enqueue_once(message_id, values)
    assert not await redis.exists(f"wam:seen:{message_id}"), "a failed send keeps its claim"
    assert await queue.enqueue_once(message_id, values)
    assert await redis.ttl(f"wam:seen:{message_id}") > 6 * 24 * 3600
