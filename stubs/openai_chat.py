"""A local OpenAI-compatible chat-completions server (as vLLM, llama.cpp or Ollama serve), strict
about the conversation's shape like the real ones: for the `openai` provider's tests.

It answers like the Converse stub: with tools and no tool result yet, it calls the tool that best
matches the customer's text; after tool results, it answers quoting them. `strict=True` answers
400 to a request whose tool messages do not follow the assistant message that called them, that
calls a tool not in `tools`, that carries tool calls without `tools`, or that has no user message.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _tool_call_violations(messages: list[dict[str, Any]], names: set[str]) -> list[str]:
    problems: list[str] = []
    waiting: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in waiting:
                problems.append(f"messages[{index}]: tool message answers no pending tool call")
            waiting.discard(str(message.get("tool_call_id")))
            continue
        if waiting:
            problems.append(f"messages[{index}]: tool calls {sorted(waiting)} were not answered")
            waiting = set()
        for call in message.get("tool_calls") or []:
            if not names:
                problems.append(f"messages[{index}]: tool calls without tools")
            elif call.get("function", {}).get("name") not in names:
                problems.append(f"messages[{index}]: tool {call['function'].get('name')!r} unknown")
            waiting.add(str(call.get("id")))
    return problems


def chat_violations(body: dict[str, Any]) -> list[str]:
    """What a strict OpenAI-compatible server rejects in a chat-completions request."""
    messages = body.get("messages") or []
    names = {t.get("function", {}).get("name") for t in body.get("tools") or []}
    problems = _tool_call_violations(messages, names)
    if not any(m.get("role") == "user" for m in messages):
        problems.append("messages: no user message")
    for index, message in enumerate(messages):
        if message.get("role") == "user" and not str(message.get("content") or "").strip():
            problems.append(f"messages[{index}]: empty user message")
    return problems


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _pick(tools: list[dict[str, Any]], text: str) -> dict[str, Any]:
    words = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}

    def overlap(tool: dict[str, Any]) -> int:
        function = tool["function"]
        about = f"{function['name'].replace('_', ' ')} {function.get('description', '')}"
        return len(words & set(re.findall(r"[a-z]+", about.lower())))

    best = max(tools, key=overlap)
    return best if overlap(best) > overlap(tools[0]) else tools[0]


def _reply(body: dict[str, Any], count: int) -> tuple[dict[str, Any], str]:
    messages = body["messages"]
    tools = body.get("tools") or []
    if messages[-1].get("role") == "tool":
        quoted = " ".join(_text(m) for m in messages if m.get("role") == "tool")
        return {"role": "assistant", "content": f"From the tool: {quoted[-500:]}"}, "stop"
    if tools:
        user = next(_text(m) for m in reversed(messages) if m.get("role") == "user")
        function = _pick(tools, user)["function"]
        properties = (function.get("parameters") or {}).get("properties") or {}
        arguments = {"query": user} if "query" in properties else {}
        call = {
            "id": f"call_{count}",
            "type": "function",
            "function": {"name": function["name"], "arguments": json.dumps(arguments)},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": "Hello from the OpenAI stub."}, "stop"


def create_openai_stub(strict: bool = True) -> FastAPI:
    app = FastAPI(title="OpenAI-compatible stub")
    app.state.requests = []
    app.state.rejections = []

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append(body)
        problems = chat_violations(body) if strict else []
        if problems:
            app.state.rejections.append({"body": body, "problems": problems})
            error = {"message": "; ".join(problems), "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=400)
        message, finish = _reply(body, len(app.state.requests))
        return {
            "id": f"chatcmpl-{len(app.state.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "local-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40},
        }

    return app


__all__ = ["chat_violations", "create_openai_stub"]
