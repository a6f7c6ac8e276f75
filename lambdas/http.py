"""API Gateway HTTP API (payload format 2.0) events in, Lambda proxy responses out."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> HttpRequest:
        """The request of an HTTP API v2 event; the body exactly as sent (base64 decoded)."""
        http = event.get("requestContext", {}).get("http", {})
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
        return cls(
            method=str(http.get("method", "GET")).upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            query={str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
            headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            body=body,
        )


def response(status: int, body: dict[str, Any] | str) -> dict[str, Any]:
    """A Lambda proxy response: JSON for a dict, plain text for a string."""
    if isinstance(body, str):
        content_type, text = "text/plain; charset=utf-8", body
    else:
        content_type, text = "application/json", json.dumps(body)
    return {
        "statusCode": status,
        "headers": {"content-type": content_type},
        "body": text,
        "isBase64Encoded": False,
    }
