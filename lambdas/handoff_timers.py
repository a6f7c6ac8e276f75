"""`handoff-timers`: one pass of the human-handoff timers, every minute (EventBridge schedule).

What `wam serve` and `wam worker` run in a loop (`HandoffTimers`, server/handoff.py): a customer
waiting for a person longer than HANDOFF_WAITING_UPDATE_MINUTES gets one polite update, and a
thread a person left idle for HANDOFF_ASSIGNED_IDLE_MINUTES goes back to the bot (the customer is
told), for every business account. With `orchestrator=lambda` nothing else runs them (the Fargate
workers do). Each action is claimed atomically on the thread's record in Redis before its message
is sent, and the message is sent once per key, so a pass run twice, or two at once (a slow pass
and the next minute's, a retry), never sends twice.

Answers how many updates were sent and threads released; when an action failed the pass still
finishes, then raises (the function's error alarm); a failed update is tried again a minute later.
The clients are built on the container's first invocation; nothing heavy is imported before.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import structlog

from lambdas import container

if TYPE_CHECKING:
    from server.handoff import HandoffTimers

log = structlog.get_logger(__name__)


async def _timers() -> HandoffTimers:
    """The timers on this container: settings (the access tokens from Secrets Manager), Redis,
    the DynamoDB log and the channel's sender."""
    from redis.asyncio import Redis

    from app.channel import build_channel
    from app.localstack import LocalStack, aws_credentials_configured
    from app.runtime import Runtime
    from server.handoff import Handoff, HandoffTimers
    from server.pacing import SendPacer
    from server.replies import ReplySender
    from server.wiring import canned_sender, handoff_settings
    from stores import Stores

    settings = container.settings()
    if settings.redis_url is None:
        raise RuntimeError("the handoff timers need REDIS_URL")
    stores = Stores.connect(
        settings.aws_region, settings.table_prefix, settings.conversation_ttl_days
    )
    stack = LocalStack(settings, real_aws_credentials=aws_credentials_configured())
    channel = build_channel(Runtime(settings=settings, stores=stores, stack=stack), workers=0)
    redis = Redis.from_url(channel.config.redis_url, health_check_interval=10)
    container.on_reset(redis.aclose)
    replies = ReplySender(
        redis=redis,
        sender=channel.sender,
        stores=stores,
        pacer=SendPacer(redis, channel.metrics),
        metrics=channel.metrics,
    )
    return HandoffTimers(
        Handoff(redis, stores, handoff_settings(channel.config)),
        [account.phone_number_id for account in channel.accounts.all()],
        canned_sender(channel.accounts, replies),
    )


async def process(event: dict[str, Any]) -> dict[str, int]:
    timers = await container.once("handoff_timers", _timers)
    before = asyncio.all_tasks()
    result = await timers.run_once()
    # What a send left running (the sent status, the profile): Lambda freezes the container
    # once the handler returns.
    started = asyncio.all_tasks() - before
    started.discard(asyncio.current_task())  # type: ignore[arg-type]
    if started:
        await asyncio.wait(started, timeout=10)
    summary = asdict(result)
    log.info("handoff timers pass", **summary)
    if result.failed:
        raise RuntimeError(
            f"handoff timers: {result.failed} thread(s) failed "
            f"({result.waiting_updates} updates sent, {result.released} released)"
        )
    return summary


def handler(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    return container.run(process(event))
