"""A local HTTP server speaking Bedrock Runtime's Converse API, for the Bedrock provider's tests.

It answers like a model that uses tools: with tools configured and no tool result yet, it asks for
the first tool with the customer's text as `query`; after a tool result, it answers quoting it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request


def create_converse_stub() -> FastAPI:
    app = FastAPI()
    app.state.requests = []

    @app.post("/model/{model_id}/converse")
    async def converse(model_id: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.requests.append(
            {"model_id": model_id, "body": body, "headers": dict(request.headers)}
        )
        last = body["messages"][-1]
        results = [c["toolResult"] for c in last["content"] if "toolResult" in c]
        tools = (body.get("toolConfig") or {}).get("tools") or []
        names = [tool["toolSpec"]["name"] for tool in tools]
        if names == ["RouteDecision"]:  # the LLM router's structured output
            text = " ".join(c.get("text", "") for c in last["content"]).lower()
            agent = "billing" if "money" in text or "pay" in text else "general"
            content = [
                {
                    "toolUse": {
                        "toolUseId": "route",
                        "name": "RouteDecision",
                        "input": {"agent_id": agent, "confidence": 0.9, "reason": "stub decided"},
                    }
                }
            ]
            stop = "tool_use"
        elif results:
            quoted = " ".join(
                part.get("text", "") for result in results for part in result["content"]
            )
            content: list[dict[str, Any]] = [{"text": f"From the tool: {quoted}"}]
            stop = "end_turn"
        elif tools:
            text = " ".join(c.get("text", "") for c in last["content"])
            spec = tools[0]["toolSpec"]
            content = [
                {"text": "Let me check."},
                {
                    "toolUse": {
                        "toolUseId": f"tu_{len(app.state.requests)}",
                        "name": spec["name"],
                        "input": {"query": text},
                    }
                },
            ]
            stop = "tool_use"
        else:
            content = [{"text": "Hello from the Converse stub."}]
            stop = "end_turn"
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": 40, "outputTokens": 12, "totalTokens": 52},
            "metrics": {"latencyMs": 5},
        }

    return app
