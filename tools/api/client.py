"""One integration's HTTP calls: the client (auth from an environment secret, created on first
use and shared by the integration's tools) and an operation's request, retried with backoff and
jitter on throttling (429), server errors and transport errors.

Failures come back as an `ERROR: ...` string for the model, never as an exception.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tools.actions import CallContext
from tools.api.arguments import INJECTED, PATH_PARAM, STATE_PARAMETERS
from tools.api.config import ApiIntegrationConfig, IntegrationConfigError, Operation, RecordCheck


class ApiToolError(RuntimeError):
    pass


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code == 429 or error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


class ApiClient:
    """The HTTP side of one integration's tools."""

    def __init__(
        self, config: ApiIntegrationConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._operations = {operation.name: operation for operation in config.operations}

    def client(self) -> httpx.AsyncClient:
        """The shared client, created on first use (a missing secret fails the call, not the
        build)."""
        if self._client is None:
            config = self.config
            headers = {"Accept": "application/json"}
            secret = (
                os.environ.get(config.auth.secret_env or "") if config.auth.secret_env else None
            )
            if config.auth.type != "none" and not secret:
                raise IntegrationConfigError(
                    f"integration {config.name}: auth needs environment variable "
                    f"{config.auth.secret_env}"
                )
            if config.auth.type == "bearer":
                headers["Authorization"] = f"Bearer {secret}"
            elif config.auth.type == "api_key":
                headers[config.auth.header] = str(secret)
            self._client = httpx.AsyncClient(
                base_url=config.resolved_base_url(),
                headers=headers,
                timeout=config.timeout_seconds,
                transport=self._transport,
            )
        return self._client

    async def request(
        self, operation: Operation, arguments: dict[str, Any]
    ) -> httpx.Response | str:
        """The operation's HTTP answer, or an error for the model."""
        config = self.config
        path_names = PATH_PARAM.findall(operation.path)
        missing = [n for n in path_names if not arguments.get(n)]
        if missing:
            return (
                f"ERROR: cannot call {operation.name}: no {', '.join(missing)} is known for "
                "this conversation (the WhatsApp number is not linked to an account)."
            )
        path = operation.path.format(**{n: arguments.pop(n) for n in path_names})
        for name in INJECTED:
            arguments.pop(name, None)
        body = {k: v for k, v in arguments.items() if v is not None}
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(config.retries + 1),
                wait=wait_exponential_jitter(multiplier=0.2, max=3),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    response = await self.client().request(
                        operation.method,
                        path,
                        params=body if operation.method == "GET" else None,
                        json=body if operation.method != "GET" else None,
                    )
                    response.raise_for_status()
        except httpx.HTTPStatusError as error:
            return (
                f"ERROR: {config.name} API answered {error.response.status_code} to "
                f"{operation.name}: {error.response.text[:300]}"
            )
        except httpx.HTTPError as error:
            return f"ERROR: {config.name} API unreachable for {operation.name}: {error!r}"
        return response

    async def record_for(self, check: RecordCheck, context: CallContext) -> dict[str, Any] | str:
        """The customer's record a change is checked against (`check.operation`, a GET)."""
        state = {name: getattr(context, name, None) for name in STATE_PARAMETERS}
        answer = await self.request(self._operations[check.operation], state)
        if isinstance(answer, str):
            return answer
        try:
            data = answer.json()
        except ValueError:
            return f"ERROR: {check.operation} did not answer JSON."
        return data if isinstance(data, dict) else {"result": data}
