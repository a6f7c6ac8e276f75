"""Fuzzing the webhook with correctly signed bodies: whatever arrives, no 5xx, and the workers keep
answering. `make test` runs a few hundred bodies; `make soak` runs 10,000 (FUZZ_EXAMPLES)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.webhook import signature_for
from stubs import sent_to
from tests.integration.conftest import new_wa_id
from tests.integration.whatsapp import NUMBER, SECRET, message, payload, post, wait_for

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
MESSAGE_TYPES = [
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "unknown", "unsupported", "ephemeral",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=60),
    st.sampled_from(["", "15550001", "+15550001", "١٢٣", "x" * 3000, "wamid.%00", "\u202e"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def webhook_bodies(draw: st.DrawFn) -> Any:
    """Mostly Meta-shaped notifications with hostile fields; sometimes any JSON at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    kind = draw(st.sampled_from(MESSAGE_TYPES))
    body = message(
        draw(st.one_of(st.just(new_wa_id()), st.text(max_size=20))),
        kind,
        message_id=draw(st.one_of(st.just(f"wamid.fz.{uuid.uuid4().hex}"), st.text(max_size=40))),
        **{kind: draw(json_values)},
    )
    if draw(st.booleans()):
        body[draw(st.sampled_from(["from", "id", "timestamp", "type", "context"]))] = draw(
            json_values
        )
    envelope = payload(body, number=draw(st.sampled_from([NUMBER, "999", "", "x"])))
    if draw(st.integers(0, 4)) == 0:
        change = envelope["entry"][0]["changes"][0]
        change["value"]["statuses"] = draw(st.lists(json_values, max_size=2))
    return envelope


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(body=webhook_bodies())
# The strategy draws only from Hypothesis; the server in this process moves the global random
# state from its own threads (its clients' retry jitter) while examples are drawn.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
def test_no_signed_body_gets_a_5xx(app_url, body: Any) -> None:
    raw = json.dumps(body).encode()
    response = httpx.post(
        f"{app_url}/webhook",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": signature_for(raw, SECRET),
        },
        timeout=30,
    )
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)


def test_the_workers_still_answer_after_the_fuzzing(app_url, graph_api) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    post(app_url, payload(message(wa_id, text={"body": "What are your opening hours?"})))
    wait_for(lambda: sent_to(stub, wa_id), timeout=60, what="an answer after the fuzzing")
