"""`eum-events-handler`: AWS End User Messaging Social's SNS events → SQS FIFO.

End User Messaging publishes each WhatsApp webhook entry of its linked numbers to an SNS topic this
function subscribes to; AWS authenticates the delivery, so there is no Meta signature to check.
Each entry goes through the same queueing and status handling as the Cloud API webhook
(server/notifications.py). A store that is unavailable fails the invocation: SNS retries it.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from lambdas import container
from lambdas.webhook_handler import webhook_context
from server.eum import webhook_payload
from server.notifications import accept_payload, parse_payload

log = structlog.get_logger(__name__)


async def process(event: dict[str, Any]) -> dict[str, Any]:
    context = await container.once("webhook", webhook_context)
    queued = 0
    for record in event.get("Records", []):
        try:
            body = json.dumps(webhook_payload(record["Sns"]["Message"])).encode()
        except (KeyError, TypeError, ValueError):
            log.warning("SNS message is not an End User Messaging WhatsApp event; dropped")
            continue
        status, answer = await accept_payload(context, parse_payload(body))
        if status == 503:
            raise RuntimeError("store unavailable; SNS retries the delivery")
        queued += int(answer.get("queued", 0))
    return {"queued": queued}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return container.run(process(event))
