"""The webhook's side of the queue interface: queue a message once, whatever the backend.

`server.queue.InboundQueue` (Redis Stream) and `server.sqs.SqsQueue` (SQS FIFO) both implement it;
the webhook depends on nothing else of theirs, and on no consumer.
"""

from __future__ import annotations

from typing import Protocol


class Enqueuer(Protocol):
    async def enqueue_once(self, message_id: str, fields: dict[str, str]) -> str | None:
        """The new entry's id, or None when `message_id` was already queued."""
        ...
