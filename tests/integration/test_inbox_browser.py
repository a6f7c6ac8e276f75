"""The inbox page in headless Chromium: a person sees the waiting conversation, takes it, replies
on WhatsApp and hands it back to the bot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server import create_app
from stubs import BackgroundServer, sent_to, text_of
from tests.integration.conftest import new_wa_id
from tests.integration.whatsapp import NUMBER, make_channel, message, payload, post, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def inbox_url(settings, stores, demo, graph_api) -> Iterator[str]:
    """Local mode without a token: the inbox answers this machine only."""
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1)
    server = BackgroundServer(create_app(channel))
    server.start()
    yield server.url
    server.stop()


def test_a_person_works_a_conversation_in_the_inbox_page(
    browser, inbox_url, graph_api, tmp_path: Path
) -> None:
    stub, _ = graph_api
    wa_id = new_wa_id()
    post(inbox_url, payload(message(wa_id, text={"body": "I want to talk to a person"})))
    wait_for(lambda: sent_to(stub, wa_id), what="the bot's answer")
    page = browser.new_page()
    page.goto(inbox_url + "/inbox")
    row = page.locator(f'.conv[data-thread="{NUMBER}:{wa_id}"]')
    row.wait_for(timeout=20_000)
    row.click()
    page.fill("#me", "Marta")
    page.click("#take")
    page.wait_for_selector("#head .state.assigned", timeout=20_000)
    page.fill("#text", "Hi, I'm Marta from the team. How can I help?")
    page.click("#send")
    wait_for(
        lambda: [m for m in sent_to(stub, wa_id) if "Marta from the team" in text_of(m)],
        what="the person's reply on WhatsApp",
    )
    page.wait_for_selector(".msg.human_agent", timeout=20_000)
    page.click("#resolve")
    page.wait_for_selector("#head .state.resolved", timeout=20_000)
    page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)
    page.close()
