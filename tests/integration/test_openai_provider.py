"""The `openai` provider against a local OpenAI-compatible server (as vLLM or Ollama serve)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi import FastAPI, Request
from langchain_core.messages import AIMessage, HumanMessage

from agents import ModelRegistry, ModelSettings, build_agent_graph
from graph import SupervisorDeps
from tools.billing_demo import BackgroundServer

pytestmark = pytest.mark.integration


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "local-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40},
    }


@pytest.fixture(scope="module")
def openai_server():
    app = FastAPI()
    app.state.requests = []

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.requests.append({"body": body, "auth": request.headers.get("authorization")})
        last = body["messages"][-1]
        if last["role"] == "tool":
            return _completion(
                {"role": "assistant", "content": f"Tool said: {last['content']}"}, "stop"
            )
        if body.get("tools"):
            call = {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": body["tools"][0]["function"]["name"],
                    "arguments": json.dumps({"query": last["content"]}),
                },
            }
            return _completion(
                {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
            )
        return _completion({"role": "assistant", "content": "Hello from the local model."}, "stop")

    server = BackgroundServer(app)
    server.start()
    yield app, server.url
    server.stop()


async def test_openai_compatible_endpoint_text_and_tools(
    openai_server, demo: SupervisorDeps, monkeypatch
) -> None:
    app, url = openai_server
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "local-key")
    registry = ModelRegistry(override="openai")
    model = registry.chat_model(ModelSettings(model_id="local-model", max_tokens=50))
    reply = await model.ainvoke([HumanMessage("hi")])
    assert reply.content == "Hello from the local model."
    assert app.state.requests[0]["auth"] == "Bearer local-key"
    assert app.state.requests[0]["body"]["model"] == "local-model"

    sales = demo.agents["sales"]
    graph = build_agent_graph(sales, registry, demo.toolkit.tools_for(sales))
    state = await graph.ainvoke({"messages": [HumanMessage("How much is the premium plan?")]})
    final = state["messages"][-1]
    assert isinstance(final, AIMessage) and final.content.startswith("Tool said:")
    assert "[source: plans-and-pricing]" in final.content
