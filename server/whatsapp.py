"""Sending to WhatsApp: the Graph API client, and the local outbox used when no API is configured.

`POST {WHATSAPP_API_BASE_URL}/{phone_number_id}/messages` with the account's bearer token. Text is
split at 4096 characters on paragraph or sentence boundaries. Throttling (HTTP 429, 5xx, Meta's
throughput codes 130429 and 131056) is retried with backoff and jitter; 131047 (the 24-hour
customer-service window has closed) is raised at once, not retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = structlog.get_logger(__name__)

MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
THROTTLING_CODES = frozenset({130429, 131056})
OUTSIDE_WINDOW_CODE = 131047


class WhatsAppApiError(RuntimeError):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"Graph API {status} (code {code}): {message}")
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.code in THROTTLING_CODES


class OutsideWindowError(WhatsAppApiError):
    """131047: more than 24 hours since the customer wrote; only templates may be sent."""


class SendOutcomeUnknownError(RuntimeError):
    """The request may have reached Meta (a read timeout, a dropped connection after the body
    was written): sending it again could deliver it twice, so it is not retried."""


# Transport errors after which the request surely did not reach the server: safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _retryable(error: BaseException, idempotent: bool) -> bool:
    if isinstance(error, WhatsAppApiError):
        return error.retryable
    if isinstance(error, _NOT_SENT):
        return True
    return idempotent and isinstance(error, httpx.TransportError)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraphs, then sentences, then words."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n\n")
        if cut < limit // 2:
            sentence_ends = [m.end() for m in re.finditer(r"[.!?](\s|$)", window)]
            cut = sentence_ends[-1] if sentence_ends and sentence_ends[-1] >= limit // 2 else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


@dataclass
class Choices:
    """Options an agent offered: sent as reply buttons (<= 3 short titles) or a list (<= 10)."""

    body: str
    options: list[str]


def extract_choices(text: str) -> Choices | None:
    """A reply ending in a numbered or bulleted list of 2-10 short options."""
    lines = text.strip().splitlines()
    options: list[str] = []
    while lines and (match := re.match(r"^\s*(?:\d+[.)]|[-*•])\s+(.{1,72})$", lines[-1])):
        options.insert(0, match.group(1).strip())
        lines.pop()
    body = "\n".join(lines).strip()
    if 2 <= len(options) <= MAX_LIST_ROWS and body:
        return Choices(body=body, options=options)
    return None


def template_payload(
    to: str, name: str, language: str, parameters: list[str] | None = None
) -> dict[str, Any]:
    """An approved template message: the only kind Meta accepts outside the 24-hour window."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    }


def text_payload(to: str, body: str, reply_to: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    return payload


def buttons_payload(to: str, body: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    """Reply buttons with ids of our own (a confirmation bound to its proposal, say)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body[:1024]},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": key[:256], "title": title[:MAX_BUTTON_TITLE]}}
                    for key, title in buttons[:MAX_BUTTONS]
                ]
            },
        },
    }


def choices_payload(to: str, choices: Choices) -> dict[str, Any]:
    """Reply buttons when they fit (<= 3, titles <= 20), else a list message."""
    if len(choices.options) <= MAX_BUTTONS and all(
        len(o) <= MAX_BUTTON_TITLE for o in choices.options
    ):
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": f"opt_{i + 1}", "title": option}}
                for i, option in enumerate(choices.options)
            ]
        }
        kind = "button"
    else:
        action = {
            "button": "Options",
            "sections": [
                {
                    "title": "Options",
                    "rows": [
                        {"id": f"opt_{i + 1}", "title": option[:24], "description": option[24:96]}
                        for i, option in enumerate(choices.options[:MAX_LIST_ROWS])
                    ],
                }
            ],
        }
        kind = "list"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": choices.body[:1024]}, "action": action},
    }


class WhatsAppSender(Protocol):
    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str: ...

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None: ...

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]: ...


class GraphApiClient:
    """The real Graph API (or anything speaking it at `base_url`)."""

    def __init__(
        self,
        base_url: str,
        *,
        attempts: int = 5,
        timeout: float = 15.0,
        max_connections: int = 256,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            # An idle connection is dropped before the 5 s after which many servers close it
            # (uvicorn's default): reusing one the server is closing loses a send's outcome.
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=64, keepalive_expiry=4.0
            ),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(
        self, method: str, url: str, token: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Retry throttling, 5xx and errors that prove the request was not sent; a POST whose
        outcome is unknown (timeout while reading the answer) raises `SendOutcomeUnknownError`."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.3, max=8),
            retry=retry_if_exception(lambda e: _retryable(e, idempotent)),
            reraise=True,
        ):
            with attempt:
                try:
                    response = await self._client.request(
                        method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs
                    )
                except httpx.TransportError as error:
                    if idempotent or isinstance(error, _NOT_SENT):
                        raise
                    raise SendOutcomeUnknownError(
                        f"{method} {url}: {type(error).__name__}; not retried"
                    ) from error
                if response.status_code >= 400:
                    raise self._error(response)
                return response
        raise AssertionError("unreachable")

    @staticmethod
    def _error(response: httpx.Response) -> WhatsAppApiError:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = error.get("code")
        message = error.get("message") or response.text[:200]
        if code == OUTSIDE_WINDOW_CODE:
            return OutsideWindowError(response.status_code, code, message)
        return WhatsAppApiError(response.status_code, code, message)

    async def send(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str:
        response = await self._request(
            "POST",
            f"{self.base_url}/{phone_number_id}/messages",
            token,
            idempotent=False,
            json=payload,
        )
        messages = response.json().get("messages") or [{}]
        return str(messages[0].get("id", ""))

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        """Blue ticks and the typing indicator while the agents work."""
        await self._request(
            "POST",
            f"{self.base_url}/{phone_number_id}/messages",
            token,
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": message_id,
                "typing_indicator": {"type": "text"},
            },
        )

    async def download_media(self, token: str, media_id: str) -> tuple[bytes, str]:
        """`GET /{media_id}` for the URL, then the URL itself with the same bearer token."""
        meta = (await self._request("GET", f"{self.base_url}/{media_id}", token)).json()
        content = await self._request("GET", meta["url"], token)
        return content.content, str(meta.get("mime_type") or content.headers.get("content-type"))
