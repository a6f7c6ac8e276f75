"""One customer message through the supervisor graph, as the default business account's number
receives it (shared by the integration tests that talk to the graph directly)."""

from __future__ import annotations

import uuid

from graph import SupervisorGraph, TurnResult, run_turn

NUMBER = "100000000000001"  # the default business account (owns the demo customers)


async def say(
    graph: SupervisorGraph, wa_id: str, text: str, reply_id: str = "", message_id: str = ""
) -> TurnResult:
    return await run_turn(
        graph,
        phone_number_id=NUMBER,
        wa_id=wa_id,
        texts=[text],
        message_ids=[message_id] if message_id else None,
        reply_ids=[reply_id],
    )


def unknown_number(base: int = 15_900_000_000) -> str:
    """A WhatsApp number no customer record has, new on each call (so no session is shared)."""
    return str(base + uuid.uuid4().int % 100_000_000)
