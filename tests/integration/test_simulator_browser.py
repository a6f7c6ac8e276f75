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
    channel.outbox = LocalOutbox(redis.url)
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
    # Under each reply: the agent that answered and the tools it ran.
    labels = page.locator(".msg.in .who").all_text_contents()
    assert any("agent: sales" in label for label in labels)
    assert any("tools:" in label for label in labels)
    # The request for a person shows the handoff, with a link to the inbox.
    page.wait_for_selector("#handoff:not([hidden])", timeout=15_000)
    assert "waiting" in page.inner_text("#handoff")
    # Another customer's chat, then back: the first chat is restored.
    page.select_option("#customer", "15550001")
    page.wait_for_function("document.querySelectorAll('.msg').length === 0")
    page.select_option("#customer", "15550002")
    page.wait_for_function("document.querySelectorAll('.msg.out').length === 4")
    page.screenshot(path=str(tmp_path / "simulator.png"), full_page=True)
    page.close()
