"""Memory across processes, API tools over HTTP, KB ingestion, and config errors in the CLI."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException
from redis import Redis

from tests.integration.conftest import WAM, new_wa_id, wam_env
from tools import LocalKnowledgeBase, build_api_tools, ingest_path
from tools.api import ApiIntegrationConfig
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


def _chat(env: dict[str, str], wa_id: str, text: str) -> str:
    result = subprocess.run(
        [*WAM, "chat", "--user", f"+{wa_id}"],
        input=text + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_conversation_memory_survives_a_process_restart(settings, servers, demo, tmp_path):
    env = wam_env(settings, servers, tmp_path)
    wa_id = new_wa_id()
    first = _chat(env, wa_id, "How much is the premium plan?")
    assert "[sales |" in first and "$29.99" in first
    # A new process: the follow-up only routes to sales if the thread's state was kept in Redis.
    second = _chat(env, wa_id, "and for enterprise?")
    assert "[sales |" in second, second
    assert "$99" in second


@pytest.fixture(scope="module")
def flaky_api():
    app = FastAPI()
    app.state.calls = []
    app.state.fail_next = 0

    @app.get("/accounts/{customer_id}/status")
    def status(customer_id: str, authorization: str | None = Header(default=None)):
        app.state.calls.append((customer_id, authorization))
        if authorization != "Bearer s3cret":
            raise HTTPException(401, "bad token")
        if app.state.fail_next:
            app.state.fail_next -= 1
            raise HTTPException(429 if app.state.fail_next % 2 else 503, "busy")
        return {"customer_id": customer_id, "status": "active"}

    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


def _status_tool(url: str, retries: int = 2):
    config = ApiIntegrationConfig.model_validate(
        {
            "name": "crm",
            "base_url": "${CRM_URL}",
            "auth": {"type": "bearer", "secret_env": "CRM_TOKEN"},
            "retries": retries,
            "operations": [
                {
                    "name": "account_status",
                    "path": "/accounts/{customer_id}/status",
                    "description": "The account's status",
                }
            ],
        }
    )
    return build_api_tools(config)[0]


async def test_api_tool_authenticates_and_retries_throttling(flaky_api, monkeypatch):
    app, url = flaky_api
    monkeypatch.setenv("CRM_URL", url)
    monkeypatch.setenv("CRM_TOKEN", "s3cret")
    app.state.calls.clear()
    app.state.fail_next = 2
    tool = _status_tool(url)
    assert "customer_id" not in tool.tool_call_schema.model_json_schema()["properties"]
    output = await tool.ainvoke({"customer_id": "cust_9"})
    assert '"status":"active"' in output
    assert app.state.calls == [("cust_9", "Bearer s3cret")] * 3


async def test_api_tool_reports_errors_instead_of_raising(flaky_api, monkeypatch):
    _, url = flaky_api
    monkeypatch.setenv("CRM_URL", url)
    monkeypatch.setenv("CRM_TOKEN", "wrong")
    output = await _status_tool(url).ainvoke({"customer_id": "cust_9"})
    assert output.startswith("ERROR: crm API answered 401 to account_status")
    missing = await _status_tool(url).ainvoke({"customer_id": None})
    assert "no customer_id is known" in missing
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:1")
    unreachable = await _status_tool(url, retries=0).ainvoke({"customer_id": "c"})
    assert unreachable.startswith("ERROR: crm API unreachable")


def test_ingest_txt_md_html_and_retrieve_with_stemming(settings, servers, tmp_path):
    from stores.aws import aws_client

    (tmp_path / "returns.md").write_text("# Returns\n\nDevices can be returned within 30 days.")
    (tmp_path / "envios.txt").write_text("Los envíos gratuitos llegan en tres días hábiles.")
    (tmp_path / "warranty.html").write_text(
        "<html><head><title>Warranty</title><style>p{}</style></head>"
        "<body><p>Every device has a two-year warranty.</p><script>x()</script></body></html>"
    )
    (tmp_path / "notes.docx").write_text("ignored: unsupported type")
    base = LocalKnowledgeBase(Redis.from_url(settings.redis_url), f"kb-{new_wa_id()}")
    s3 = aws_client("s3", settings.aws_region)
    from stores import ensure_bucket

    ensure_bucket(s3, settings.s3_bucket, settings.aws_region)
    documents = ingest_path(tmp_path, base, s3=s3, bucket=settings.s3_bucket)
    assert {(d.source, d.language) for d in documents} == {
        ("returns", "en"),
        ("envios", "es"),
        ("warranty", "en"),
    }
    stored = s3.get_object(Bucket=settings.s3_bucket, Key=f"kb-documents/{base.kb_id}/envios.txt")
    assert "envíos" in stored["Body"].read().decode()
    assert base.retrieve("can I return a device?")[0].source == "returns"
    assert base.retrieve("¿cuánto tarda el envío?")[0].source == "envios"
    warranty = base.retrieve("warranty")[0]
    assert warranty.title == "Warranty" and "x()" not in warranty.text
    assert base.retrieve("the of and") == []


def test_cli_validate_reports_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: sales\nname: Sales\ndescription: Plans and prices here\n"
        "examples: {en: [price]}\nsystem_prompt: hi\nmodel: {temperature: 7}\nfallback: true\n"
    )
    result = subprocess.run(
        [*WAM, "agents", "validate", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{bad}: model.temperature: Input should be less than or equal to 1" in result.stderr
    assert "Traceback" not in result.stderr
    good = subprocess.run([*WAM, "agents", "validate"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and good.stdout.count("ok  ") == 4


def test_http_client_is_real(flaky_api):
    _, url = flaky_api
    assert httpx.get(f"{url}/accounts/x/status").status_code == 401
