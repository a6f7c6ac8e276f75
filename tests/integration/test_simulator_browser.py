"""The simulator page end to end in headless Chromium (Debian's `chromium`).

Pick a demo customer, chat, and see the agents' replies come back through the signed webhook, the
workers and the outbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpointers import EmbeddedRedis
from server import LocalOutbox, create_app
from tests.integration.test_channel import make_channel
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str | None:
    """Debian's chromium; installed here when missing and we may (root, apt), else None."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=900, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "Debian's chromium is not installed and could not be installed (needs root "
            "and apt); the simulator's HTTP flow is covered by test_channel.py"
        )
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


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
