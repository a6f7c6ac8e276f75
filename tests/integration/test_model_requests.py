"""Every model request is one Bedrock accepts: a conversation across all agents, against a strict
Converse stub that answers 400 (ValidationException) to each malformation Bedrock rejects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis import Redis

from agents import default_agents_dir, load_agents
from app.settings import Settings
from app.wiring import build_deps
from checkpointers import async_redis_saver
from graph import compile_supervisor, run_turn
from stores import Stores
from stubs import BackgroundServer, create_converse_stub, create_openai_stub
from tests.integration.conftest import new_wa_id

pytestmark = pytest.mark.integration

CHITCHAT = """\
id: chitchat
name: Chitchat
description: Jokes, riddles and fun facts to pass the time, nothing about the business.
examples:
  en: [Tell me a joke, Do you know a riddle, Tell me a fun fact]
  es: [Cuéntame un chiste, Sabes una adivinanza]
system_prompt: Tell short, kind jokes. You have no tools.
model: {provider: bedrock, model_id: us.anthropic.claude-haiku-4-5-20251001-v1:0}
"""


CONVERSATION = [
    ("How much is the premium plan?", "sales"),
    ("Is my speaker online?", "device_support"),
    ("Tell me a joke", "chitchat"),
    ("Show me my last invoice", "billing"),
    ("What are your opening hours?", "general"),
    ("Tell me a fun fact", "chitchat"),
    ("My speaker keeps disconnecting from the wifi", "device_support"),
    ("What payment method do I have on file?", "billing"),
    ("Do you have any promotions this month?", "sales"),
]


@pytest.fixture(scope="module")
def strict_converse():
    app = create_converse_stub(strict=True)
    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


@pytest.fixture
def agents_with_a_toolless_one(tmp_path: Path) -> Path:
    """The demo agents plus one agent with no tools at all (test-only folder)."""
    folder = tmp_path / "agents"
    shutil.copytree(default_agents_dir(), folder)
    (folder / "chitchat.yaml").write_text(CHITCHAT, "utf-8")
    return folder


async def test_a_conversation_across_every_agent_is_never_rejected(
    settings: Settings,
    stores: Stores,
    demo,
    strict_converse,
    agents_with_a_toolless_one: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, url = strict_converse
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url)
    agents = load_agents(agents_with_a_toolless_one)
    redis = Redis.from_url(settings.redis_url or "")
    deps = build_deps(settings, stores=stores, redis=redis, override="bedrock", agents=agents)
    conversation = CONVERSATION
    wa_id = new_wa_id()
    assert settings.redis_url
    async with async_redis_saver(settings.redis_url, settings.session_ttl_minutes) as saver:
        graph = compile_supervisor(deps, saver)
        routed = []
        for text, _ in conversation:
            result = await run_turn(
                graph, phone_number_id="100000000000009", wa_id=wa_id, texts=[text]
            )
            routed.append(result.agent_id)
            assert result.reply.strip()
            assert not result.reply.startswith("Sorry, I'm having trouble"), result.reply
    assert routed == [agent for _, agent in conversation]
    print(f"{len(app.state.requests)} Converse requests, {len(app.state.rejections)} rejected")
    assert app.state.rejections == [], [r["problems"] for r in app.state.rejections]
    requests = [r["body"] for r in app.state.requests]
    assert len(requests) >= 2 * len(conversation) - 2
    toolless = [b for b in requests if "Tell short, kind jokes" in b["system"][0]["text"]]
    assert toolless and all("toolConfig" not in b for b in toolless)
    for body in toolless:
        blocks = [c for m in body["messages"] for c in m["content"]]
        assert not any("toolUse" in c or "toolResult" in c for c in blocks)


async def test_the_same_conversation_on_the_openai_provider_is_never_rejected(
    settings: Settings,
    stores: Stores,
    demo,
    agents_with_a_toolless_one: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_openai_stub(strict=True)
    server = BackgroundServer(app)
    server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    try:
        agents = load_agents(agents_with_a_toolless_one)
        redis = Redis.from_url(settings.redis_url or "")
        deps = build_deps(settings, stores=stores, redis=redis, override="openai", agents=agents)
        wa_id = new_wa_id()
        assert settings.redis_url
        async with async_redis_saver(settings.redis_url, settings.session_ttl_minutes) as saver:
            graph = compile_supervisor(deps, saver)
            for text, agent in CONVERSATION:
                result = await run_turn(
                    graph, phone_number_id="100000000000009", wa_id=wa_id, texts=[text]
                )
                assert result.agent_id == agent and result.reply.strip()
    finally:
        server.stop()
    print(f"{len(app.state.requests)} chat requests, {len(app.state.rejections)} rejected")
    assert app.state.rejections == [], [r["problems"] for r in app.state.rejections]
    assert any(m.get("role") == "tool" for b in app.state.requests for m in b["messages"])
