"""The simulator page end to end in headless Chromium (Debian's `chromium`).

Pick a demo customer, chat, and see the agents' replies come back through the signed webhook, the
workers and the outbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpointers import EmbeddedRedis
from server import LocalOutbox, create_app
from tests.integration.test_channel import make_channel
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


@pytest.fixture
def simulator_url(settings, stores, demo, tmp_path) -> Iterator[str]:
    redis = EmbeddedRedis(tmp_path)
    redis.start()
    channel = make_channel(
        settings, stores, demo, "http://127.0.0.1:1", workers=1, redis_url=redis.url
    )
    channel.outbox = LocalOutbox()
    channel.sender = channel.outbox
    server = BackgroundServer(create_app(channel))
    server.start()
    yield server.url
    server.stop()
    redis.stop()


def test_newcomer_chats_with_the_agents_in_the_browser(browser, simulator_url, tmp_path: Path):
    page = browser.new_page()
    page.goto(simulator_url + "/")
    page.wait_for_selector('#customer option[value="15550002"]', state="attached")
    page.select_option("#customer", "15550002")
    conversation = [
        ("How much is the premium plan?", "$29.99"),
        ("Is my speaker online?", "online"),
        ("Show me my last invoice", "INV-1102"),
        ("I want to talk to a human", "person on our team"),
    ]
    for turn, (text, expected) in enumerate(conversation, start=1):
        page.fill("#text", text)
        page.press("#text", "Enter")
        page.wait_for_function(
            "([n, expected]) => { const replies = document.querySelectorAll('.msg.in');"
            " return replies.length >= n && replies[n - 1].textContent.includes(expected); }",
            arg=[turn, expected],
            timeout=30_000,
        )
    assert page.locator(".msg.out").count() == 4
    page.screenshot(path=str(tmp_path / "simulator.png"), full_page=True)
    page.close()
