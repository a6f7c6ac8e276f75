"""The analytics dashboard in headless Chromium: it asks for the admin token, then draws its
charts (inline SVG, no network) over the days' metrics and lists the latest day's busiest topics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from server import create_app
from stores.analytics import metrics_key
from stores.aws import aws_client
from stubs import BackgroundServer
from tests.integration.whatsapp import make_channel

pytestmark = pytest.mark.integration
TOKEN = "dashboard-token-for-tests"
ACCOUNT = "300000000000003"


def _day(day: date, scale: int) -> dict[str, object]:
    return {
        "date": day.isoformat(),
        "account": None,
        "total_messages": 10 * scale,
        "inbound_messages": 5 * scale,
        "outbound_messages": 5 * scale,
        "unique_users": scale,
        "avg_confidence": 0.8,
        "avg_processing_time_ms": 900.0,
        "turn_latency_p50_ms": 800.0,
        "turn_latency_p95_ms": 2500.0,
        "escalations": scale % 3,
        "handoffs": 1,
        "per_agent": [{"agent": "billing", "messages": 6 * scale, "users": scale}],
        "per_language": [{"language": "es", "messages": 10 * scale}],
        "per_hour": [{"hour": 9, "messages": 4 * scale}, {"hour": 17, "messages": 6 * scale}],
        "topics": [
            {"topic": "invoice", "messages": 3 * scale, "users": scale},
            {"topic": "wifi", "messages": 2 * scale, "users": 1},
        ],
    }


@pytest.fixture
def dashboard_url(settings, stores, demo, graph_api) -> Iterator[str]:
    s3 = aws_client("s3", settings.aws_region)
    today = date.today()
    for back in range(3):
        day = today - timedelta(days=back)
        s3.put_object(
            Bucket=settings.s3_bucket,
            Key=metrics_key(day),
            Body=json.dumps(_day(day, 3 - back)).encode(),
        )
    tenant = _day(today, 1) | {"account": ACCOUNT, "total_messages": 7}
    s3.put_object(
        Bucket=settings.s3_bucket,
        Key=metrics_key(today, ACCOUNT),
        Body=json.dumps(tenant).encode(),
    )
    channel = make_channel(settings, stores, demo, graph_api[1], workers=0)
    channel.config = channel.config.__class__(
        **{**channel.config.__dict__, "admin_token": TOKEN, "s3_bucket": settings.s3_bucket}
    )
    server = BackgroundServer(create_app(channel))
    server.start()
    yield server.url
    server.stop()


def test_the_dashboard_draws_its_charts(browser, dashboard_url, tmp_path: Path) -> None:
    api = f"{dashboard_url}/admin/api/analytics/daily?days=7"
    assert httpx.get(api).status_code == 401
    days = httpx.get(api, headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert [d["total_messages"] for d in days][-3:] == [10, 20, 30]

    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(dashboard_url + "/dashboard")
    page.wait_for_selector("#login:not(.hidden)", timeout=20_000)
    page.fill("#token", TOKEN)
    page.click("#signin")
    page.wait_for_selector("#chart-messages svg rect", timeout=20_000)
    bars = page.locator("#chart-messages svg rect")
    values = [bars.nth(i).get_attribute("data-value") for i in range(bars.count())]
    assert values[-3:] == ["10", "20", "30"]
    assert page.locator("#chart-latency svg rect").count() >= 6  # p50 and p95 per day
    assert page.locator("#chart-hours svg rect").count() == 24
    assert page.locator('[data-metric="total_messages"]').inner_text() == "30"
    topics = page.locator("#topics tr")
    assert topics.count() == 3  # header and two topics
    assert "invoice" in topics.nth(1).inner_text()
    # One business account's own figures.
    page.fill("#account", ACCOUNT)
    page.click("#reload")
    page.wait_for_selector('[data-metric="total_messages"]:text-is("7")', timeout=20_000)
    assert page.locator("#chart-messages svg rect").count() == 1
    assert all(url.startswith(dashboard_url) for url in requests)  # nothing from elsewhere
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    page.close()
