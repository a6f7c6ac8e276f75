"""A local HTTP server speaking Bedrock Runtime's Converse API: for tests and benchmarks.

It answers like a model that uses tools: with tools configured and no tool result yet, it asks for
the tool whose name and description best match the customer's text (else the first tool), with its
`query`, or every required string argument, set to the customer's text; after a tool result, it
answers quoting it. The LLM router's structured output (`RouteDecision`) is answered too.

`strict=True` rejects, with a 400 and a Bedrock-like `ValidationException`, each malformation that
Bedrock itself rejects (see `converse_violations`). `latency` (or `app.state.latency_s`, settable at
run time) returns the seconds to wait before answering; `app.state.in_flight` and
`app.state.max_in_flight` count concurrent requests. `app.state.text_only` makes every agent call
answer with text at once, and `app.state.throttle_rate` answers that share of calls with
Bedrock's 429 `ThrottlingException` (botocore retries them), as a loaded account does.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

VALIDATION_ERROR = "ValidationException"


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _message_violations(
    index: int, message: dict[str, Any], previous: dict[str, Any] | None, tool_names: set[str]
) -> list[str]:
    problems: list[str] = []
    role = message.get("role")
    if index == 0 and role != "user":
        problems.append(
            "A conversation must start with a user message. Try again with a "
            "conversation that starts with a user message."
        )
    if previous is not None and previous.get("role") == role:
        problems.append(
            f"messages.{index}: A conversation must alternate between user and assistant roles."
        )
    if not _blocks(message):
        problems.append(f"messages.{index}.content: The content field is empty.")
    for block in _blocks(message):
        if "text" in block and not str(block["text"]).strip():
            problems.append(
                f"messages.{index}: The text field in the ContentBlock object is blank. Add text "
                "to the text field, and try again."
            )
        if ("toolUse" in block or "toolResult" in block) and not tool_names:
            problems.append(
                f"messages.{index}: The toolConfig field must be defined when using toolUse and "
                "toolResult content blocks."
            )
        if "toolUse" in block and tool_names and block["toolUse"].get("name") not in tool_names:
            problems.append(
                f"messages.{index}: toolUse of {block['toolUse'].get('name')!r} not in toolConfig."
            )
    return problems


def _pairing_violations(messages: list[dict[str, Any]]) -> list[str]:
    """Every toolUse is answered by a toolResult in the very next message, and only then."""
    problems: list[str] = []
    for index, message in enumerate(messages):
        uses = {b["toolUse"].get("toolUseId") for b in _blocks(message) if "toolUse" in b}
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = (
            {b["toolResult"].get("toolUseId") for b in _blocks(following) if "toolResult" in b}
            if following is not None
            else set()
        )
        if uses and following is not None and uses - answered:
            problems.append(
                f"messages.{index + 1}: Expected toolResult blocks at messages.{index + 1}.content "
                f"for the following Ids: {', '.join(sorted(map(str, uses - answered)))}"
            )
        results = {b["toolResult"].get("toolUseId") for b in _blocks(message) if "toolResult" in b}
        previous_uses = (
            {b["toolUse"].get("toolUseId") for b in _blocks(messages[index - 1]) if "toolUse" in b}
            if index > 0
            else set()
        )
        if orphans := sorted(map(str, results - previous_uses)):
            problems.append(
                f"messages.{index}: toolResult blocks at messages.{index}.content have no matching "
                f"toolUse in messages.{index - 1}: {', '.join(orphans)}"
            )
    if messages and any("toolUse" in b for b in _blocks(messages[-1])):
        problems.append("The last message may not contain toolUse blocks without their results.")
    return problems


def converse_violations(body: dict[str, Any]) -> list[str]:
    """What Bedrock would reject in a Converse request body (empty when it is well formed)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ["messages: at least one message is required."]
    tools = (body.get("toolConfig") or {}).get("tools") or []
    tool_names = {t.get("toolSpec", {}).get("name") for t in tools}
    problems: list[str] = []
    for index, message in enumerate(messages):
        previous = messages[index - 1] if index else None
        problems += _message_violations(index, message, previous, tool_names)
    problems += _pairing_violations(messages)
    for block in body.get("system") or []:
        if "text" in block and not str(block["text"]).strip():
            problems.append("system: The text field in the SystemContentBlock is blank.")
    return problems


def _text_of(message: dict[str, Any]) -> str:
    return " ".join(str(b.get("text", "")) for b in _blocks(message) if "text" in b)


def _tool_input(spec: dict[str, Any], text: str) -> dict[str, Any]:
    schema = (spec.get("inputSchema") or {}).get("json") or {}
    properties = schema.get("properties") or {}
    if "query" in properties or not properties:
        return {"query": text}
    return {
        name: text
        for name in schema.get("required", [])
        if (properties.get(name) or {}).get("type", "string") == "string"
    }


def _pick_tool(tools: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The tool whose name and description share most words with `text` (the first on a tie)."""
    words = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}

    def overlap(tool: dict[str, Any]) -> int:
        spec = tool["toolSpec"]
        about = f"{spec['name'].replace('_', ' ')} {spec.get('description', '')}".lower()
        return len(words & set(re.findall(r"[a-z]+", about)))

    best = max(tools, key=overlap)
    return best if overlap(best) > overlap(tools[0]) else tools[0]


def _is_router(body: dict[str, Any]) -> bool:
    tools = (body.get("toolConfig") or {}).get("tools") or []
    return [tool["toolSpec"]["name"] for tool in tools] == ["RouteDecision"]


def _answer(body: dict[str, Any], count: int) -> tuple[list[dict[str, Any]], str]:
    last = body["messages"][-1]
    results = [b["toolResult"] for b in _blocks(last) if "toolResult" in b]
    tools = (body.get("toolConfig") or {}).get("tools") or []
    names = [tool["toolSpec"]["name"] for tool in tools]
    if names == ["RouteDecision"]:  # the LLM router's structured output
        text = _text_of(last).lower()
        money = ("money", "pay", "plata", "dinero", "pago")
        agent = "billing" if any(word in text for word in money) else "general"
        decision = {"agent_id": agent, "confidence": 0.9, "reason": "stub decided"}
        use = {"toolUseId": "route", "name": "RouteDecision", "input": decision}
        return [{"toolUse": use}], "tool_use"
    if results:
        quoted = " ".join(
            str(part.get("text", "")) for result in results for part in result.get("content", [])
        )
        return [{"text": f"From the tool: {quoted}"}], "end_turn"
    if tools:
        spec = _pick_tool(tools, _text_of(last))["toolSpec"]
        use = {
            "toolUseId": f"tu_{count}",
            "name": spec["name"],
            "input": _tool_input(spec, _text_of(last)),
        }
        return [{"text": "Let me check."}, {"toolUse": use}], "tool_use"
    return [{"text": "Hello from the Converse stub."}], "end_turn"


def create_converse_stub(
    strict: bool = True, latency: Callable[[], float] | None = None
) -> FastAPI:
    """The stub app; `app.state.requests` and `app.state.rejections` record what it saw."""
    app = FastAPI(title="Bedrock Converse stub")
    app.state.requests = []
    app.state.rejections = []
    app.state.strict = strict
    app.state.latency_s = latency
    app.state.in_flight = 0
    app.state.max_in_flight = 0
    app.state.text_only = False  # answer every agent call with text at once (no tool use)
    app.state.throttle_rate = 0.0  # share of calls answered 429 ThrottlingException

    @app.post("/model/{model_id}/converse")
    async def converse(model_id: str, request: Request) -> Any:
        app.state.in_flight += 1
        app.state.max_in_flight = max(app.state.max_in_flight, app.state.in_flight)
        try:
            hook = app.state.latency_s
            if hook is not None:
                await asyncio.sleep(max(0.0, float(hook())))
            body = await request.json()
            record = {"model_id": model_id, "body": body, "headers": dict(request.headers)}
            app.state.requests.append(record)
            problems = converse_violations(body) if app.state.strict else []
            if problems:
                app.state.rejections.append({**record, "problems": problems})
                return JSONResponse(
                    {"message": "; ".join(problems)},
                    status_code=400,
                    headers={"x-amzn-ErrorType": f"{VALIDATION_ERROR}:http://internal.amazon.com/"},
                )
            if random.random() < app.state.throttle_rate:
                return JSONResponse(
                    {"message": "Too many requests, please wait before trying again."},
                    status_code=429,
                    headers={"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"},
                )
            if app.state.text_only and not _is_router(body):
                content, stop = [{"text": "Thanks for writing! Here is what I found."}], "end_turn"
            else:
                content, stop = _answer(body, len(app.state.requests))
            return {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop,
                "usage": {"inputTokens": 40, "outputTokens": 12, "totalTokens": 52},
                "metrics": {"latencyMs": 5},
            }
        finally:
            app.state.in_flight -= 1

    return app


__all__ = ["VALIDATION_ERROR", "converse_violations", "create_converse_stub"]
