"""`message-orchestrator`: an SQS FIFO batch in, one turn per customer thread, the failed back.

Lambda hands over up to ten messages, a message group's in order. Each thread's messages are
answered as one turn through `Worker.answer` (the same handling, reply cache and exactly-once send
as `wam worker`), threads concurrently; the answer lists in `batchItemFailures` only the messages of
the threads that must come back (a failed turn after its backoff, a burst still gathering), so
Lambda deletes the rest (`ReportBatchItemFailures`). The graph is compiled once per container, on
its first invocation; everything heavy is imported then, not at module load.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, cast

import structlog

from lambdas import container
from server.sqs import SqsMessage

if TYPE_CHECKING:
    from server.accounts import BusinessAccount
    from server.sqs_turns import GroupTurns
    from server.worker import Worker

log = structlog.get_logger(__name__)


def messages_of(event: dict[str, Any]) -> list[SqsMessage]:
    """The SQS messages of a Lambda SQS event (its records carry the same attributes)."""
    return [
        SqsMessage.parse(
            record.get("body", ""),
            record.get("receiptHandle", ""),
            record["messageId"],
            record.get("attributes", {}),
        )
        for record in event.get("Records", [])
    ]


async def _turns() -> GroupTurns:
    """The channel on this container: settings, stores, graph (compiled once), worker."""
    from app.channel import build_channel
    from app.localstack import LocalStack, aws_credentials_configured
    from app.runtime import Runtime
    from server.backends import group_turns
    from server.sqs import SqsQueue
    from server.wiring import running_channel
    from stores import Stores

    settings = container.settings()
    if settings.queue_backend != "sqs" or settings.redis_url is None:
        raise RuntimeError("the orchestrator needs QUEUE_BACKEND=sqs, SQS_QUEUE_URL and REDIS_URL")
    stores = Stores.connect(
        settings.aws_region, settings.table_prefix, settings.conversation_ttl_days
    )
    stack = LocalStack(settings, real_aws_credentials=aws_credentials_configured())
    channel = build_channel(Runtime(settings=settings, stores=stores, stack=stack), workers=0)
    exits = AsyncExitStack()
    shared = await exits.enter_async_context(running_channel(channel, workers=0))
    container.on_reset(exits.aclose)
    queue = shared["queue"]
    assert isinstance(queue, SqsQueue)
    make_worker = cast("Callable[[int], Worker]", shared["make_worker"])
    graph_for = cast("Callable[[BusinessAccount], Awaitable[object]]", shared["graph_for"])
    worker = make_worker(1)
    for account in channel.accounts.all():  # compile the graphs now, not mid-turn
        await graph_for(account)
    turns = group_turns(worker, queue, channel.config)
    return turns


async def process(event: dict[str, Any]) -> dict[str, Any]:
    turns = await container.once("orchestrator", _turns)
    groups: dict[str, list[SqsMessage]] = defaultdict(list)
    for message in messages_of(event):
        groups[message.group].append(message)
    before = asyncio.all_tasks()
    results = await asyncio.gather(
        *(turns.run(messages) for messages in groups.values()), return_exceptions=True
    )
    await _settle(asyncio.all_tasks() - before)
    failed: list[SqsMessage] = []
    for messages, result in zip(groups.values(), results, strict=True):
        if isinstance(result, BaseException):
            log.error("turn failed; its messages come back", error=repr(result)[:300])
            failed.extend(messages)
        else:
            failed.extend(result)
    return {"batchItemFailures": [{"itemIdentifier": m.sqs_id} for m in failed]}


async def _settle(started: set[asyncio.Task[Any]], within_s: float = 10.0) -> None:
    """Let the tasks a turn left behind (profile updates after a send) finish: Lambda freezes the
    container once the handler returns, and they would never run."""
    started.discard(asyncio.current_task())  # type: ignore[arg-type]
    if started:
        await asyncio.wait(started, timeout=within_s)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return container.run(process(event))
