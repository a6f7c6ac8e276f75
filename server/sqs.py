"""The inbound queue on Amazon SQS FIFO: the webhook's side (send) and the consumers' (receive).

- `MessageGroupId` is the customer thread (`<phone_number_id>:<wa_id>`): SQS hands out a group's
  messages in order, and none of them while an earlier one is in flight, so one turn at a time per
  customer holds across every consumer (processes or Lambda containers) with no lock of ours.
- `MessageDeduplicationId` is the WhatsApp message id. SQS forgets it after five minutes and Meta
  retries for days, so the message id is also claimed in Redis (`wam:seen:<id>`, seven days), as
  the Redis Stream backend does; a failed send releases the claim, and a send cut short by a crash
  holds it for a minute only.
- Voice notes, when a voice queue is configured (`SQS_VOICE_QUEUE_URL`, the AWS deployment), go
  there for the voice-processor function, which puts the transcript on this queue.
- The webhook records each thread's newest message in Redis (`Keys.newest_message`, stamped with
  Redis's clock): a consumer that holds a thread's older messages sees that more were written and
  lets the burst gather (server/sqs_turns.py).

boto3 is synchronous: every call runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from server.queue import (
    DEDUPE_SECONDS,
    NEWEST_SECONDS,
    SEEN_PREFIX,
    InboundItem,
    Keys,
    thread_id_of,
)

_DEDUPE_ID = re.compile(r"^[!-~]{1,128}$")  # SQS: 1-128 printable ASCII characters
_RECORD_NEWEST = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ms .. ' ' .. ARGV[1], 'EX', ARGV[2])
return ms
"""
MAX_BATCH = 10  # SQS's limit for ReceiveMessage and the *Batch calls
SENDING_SECONDS = 60


def deduplication_id(message_id: str) -> str:
    """The WhatsApp message id when SQS accepts it as is, else its SHA-256."""
    if _DEDUPE_ID.match(message_id):
        return message_id
    return hashlib.sha256(message_id.encode()).hexdigest()


@dataclass(frozen=True)
class Newest:
    """A thread's newest queued message, by Redis's clock."""

    millis: int
    message_id: str

    @classmethod
    def parse(cls, raw: bytes | str | None) -> Newest | None:
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        millis, _, message_id = text.partition(" ")
        return cls(int(millis), message_id) if millis.isdigit() else None


@dataclass(frozen=True)
class SqsMessage:
    """One received SQS message: the queued item (None when its body is malformed), its receipt
    handle, the thread it belongs to and how often SQS has handed it out."""

    item: InboundItem | None
    receipt: str
    sqs_id: str
    group: str
    receives: int

    @classmethod
    def parse(cls, body: str, receipt: str, sqs_id: str, attributes: dict[str, Any]) -> SqsMessage:
        """From a ReceiveMessage answer or a Lambda SQS event record (same attribute names)."""
        item: InboundItem | None
        try:
            fields = json.loads(body)
            item = InboundItem.from_entry(sqs_id, {str(k): str(v) for k, v in fields.items()})
        except (ValueError, KeyError, AttributeError, TypeError):
            item = None
        return cls(
            item=item,
            receipt=receipt,
            sqs_id=sqs_id,
            group=str(attributes.get("MessageGroupId", "")),
            receives=int(attributes.get("ApproximateReceiveCount", 1)),
        )


class SqsQueue:
    """One SQS FIFO queue (and Redis for the dedupe claims and the newest-message record)."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        redis: Redis,
        *,
        dedupe_seconds: int = DEDUPE_SECONDS,
        voice_queue_url: str | None = None,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.voice_queue_url = voice_queue_url
        self.redis = redis
        self.dedupe_seconds = dedupe_seconds
        self._record_newest = redis.register_script(_RECORD_NEWEST)

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.client, operation)
        result: dict[str, Any] = await asyncio.to_thread(method, QueueUrl=self.queue_url, **params)
        return result

    # The webhook's side -----------------------------------------------------------------------

    async def enqueue_once(self, message_id: str, fields: dict[str, str]) -> str | None:
        """The SQS message id, or None when `message_id` was already queued. A voice note goes
        to the voice queue when there is one (its transcript comes back here, see
        `enqueue_transcript`)."""
        seen = SEEN_PREFIX + message_id
        # Claimed for a minute while sending (a process that dies mid-send loses its claim, and
        # Meta's retry queues the message), for seven days once SQS has it.
        if not await self.redis.set(seen, "sending", nx=True, ex=SENDING_SECONDS):
            return None
        try:
            if self.voice_queue_url and fields.get("type") == "audio":
                queued = await self._send_voice(fields)
            else:
                queued = await self._send(fields, deduplication_id(message_id))
        except BaseException:
            await self.redis.delete(seen)
            raise
        await self.redis.set(seen, queued, ex=self.dedupe_seconds)
        return queued

    async def enqueue_transcript(self, fields: dict[str, str]) -> str:
        """A voice note's transcript (or the note itself when it could not be heard) onto the
        thread's queue, under the voice note's message id (its reply is sent once)."""
        return await self._send(fields, deduplication_id(fields["message_id"] + ".transcript"))

    async def _send(self, fields: dict[str, str], dedupe_id: str) -> str:
        thread = thread_id_of(fields["phone_number_id"], fields["wa_id"])
        # Recorded before the send: a consumer may receive the message the moment SQS has it,
        # and must then already see it as the thread's newest (else it answers at once and the
        # burst is split).
        await self._record_newest(
            keys=[Keys.newest_message(thread)], args=[fields["message_id"], NEWEST_SECONDS]
        )
        sent = await self._call(
            "send_message",
            MessageBody=json.dumps(fields, separators=(",", ":")),
            MessageGroupId=thread,
            MessageDeduplicationId=dedupe_id,
        )
        return str(sent["MessageId"])

    async def _send_voice(self, fields: dict[str, str]) -> str:
        sent = await asyncio.to_thread(
            self.client.send_message,
            QueueUrl=self.voice_queue_url,
            MessageBody=json.dumps(fields, separators=(",", ":")),
        )
        return str(sent["MessageId"])

    # The consumers' side ----------------------------------------------------------------------

    async def newest(self, thread_id: str) -> tuple[int, Newest | None]:
        """Redis's clock now (ms) and the thread's newest queued message."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.time()
        pipe.get(Keys.newest_message(thread_id))
        (seconds, microseconds), raw = await pipe.execute()
        return int(seconds) * 1000 + int(microseconds) // 1000, Newest.parse(raw)

    async def receive(self, count: int = MAX_BATCH, wait_seconds: int = 1) -> list[SqsMessage]:
        answer = await self._call(
            "receive_message",
            MaxNumberOfMessages=max(1, min(MAX_BATCH, count)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
        )
        return [
            SqsMessage.parse(m["Body"], m["ReceiptHandle"], m["MessageId"], m["Attributes"])
            for m in answer.get("Messages", [])
        ]

    async def delete(self, messages: list[SqsMessage]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            await self._call(
                "delete_message_batch",
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(chunk)],
            )

    async def set_visibility(self, messages: list[SqsMessage], seconds: int) -> None:
        """Hide the messages for `seconds` more (0: hand them out again now)."""
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            await self._call(
                "change_message_visibility_batch",
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": seconds}
                    for i, m in enumerate(chunk)
                ],
            )

    async def attributes(self) -> dict[str, str]:
        answer = await self._call("get_queue_attributes", AttributeNames=["All"])
        return dict(answer.get("Attributes", {}))

    async def max_receives(self, default: int) -> int:
        """The redrive policy's `maxReceiveCount` (receives before the DLQ), else `default`."""
        policy = (await self.attributes()).get("RedrivePolicy")
        if not policy:
            return default
        return int(json.loads(policy).get("maxReceiveCount", default))

    async def depth(self) -> int:
        """Messages waiting or in flight."""
        attributes = await self.attributes()
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )


def create_fifo_queue(
    client: Any, name: str, *, visibility_timeout_s: int, max_receives: int
) -> tuple[str, str]:
    """A FIFO queue and its dead-letter queue (local runs and tests; CDK defines them on AWS).
    Returns (queue URL, DLQ URL)."""
    base = name.removesuffix(".fifo")
    fifo = {"FifoQueue": "true"}
    dlq_url = client.create_queue(QueueName=f"{base}-dlq.fifo", Attributes=fifo)["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
    url = client.create_queue(
        QueueName=f"{base}.fifo",
        Attributes={
            **fifo,
            "VisibilityTimeout": str(visibility_timeout_s),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return str(url), str(dlq_url)
