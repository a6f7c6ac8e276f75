"""Tools built from API_INTEGRATION configs: one tool per operation of a business's HTTP API.

A config names a base URL (`${ENV}` placeholders expand from the environment), auth from an
environment secret, a timeout, retries, and operations with JSON-schema parameters. Path
placeholders that are not parameters (`{customer_id}`) are filled from the conversation's state,
never by the model. Throttling (429) and server errors are retried with backoff and jitter.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import yaml
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tools.actions import CallContext, Proposal, as_write_tool

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_JSON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
STATE_PARAMETERS = ("customer_id", "wa_id", "user_id")
INJECTED = (*STATE_PARAMETERS, "language")


class IntegrationConfigError(ValueError):
    """An integration config is invalid; the message names the file and field."""


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "bearer", "api_key"] = "none"
    secret_env: str | None = None
    header: str = "X-API-Key"


class RecordCheck(BaseModel):
    """Arguments checked against the customer's record before a change is proposed: `operation`
    (a GET of the same integration) is read, and each parameter of `match` must equal its field
    (a missing one is filled from it). Every field of the record can appear in `confirm`."""

    model_config = ConfigDict(extra="forbid")

    operation: str
    match: dict[str, str] = Field(default_factory=dict)


class Operation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str
    description: Annotated[str, Field(min_length=5)]
    examples: list[str] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    write: bool | None = None
    confirm: dict[Literal["en", "es"], str] = Field(default_factory=dict)
    check: RecordCheck | None = None

    @property
    def changes_something(self) -> bool:
        """Declared `write`, else any method but GET: it needs the customer's yes."""
        return self.method != "GET" if self.write is None else self.write


class ApiIntegrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
    description: str = ""
    base_url: str
    auth: AuthConfig = Field(default_factory=AuthConfig)
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    retries: int = Field(default=2, ge=0, le=10)
    operations: list[Operation] = Field(min_length=1)

    @model_validator(mode="after")
    def _checks_read_operations(self) -> ApiIntegrationConfig:
        methods = {operation.name: operation.method for operation in self.operations}
        for operation in self.operations:
            if operation.check and methods.get(operation.check.operation) != "GET":
                raise ValueError(
                    f"operation {operation.name}: check.operation must name a GET operation "
                    f"of this integration (got {operation.check.operation!r})"
                )
        return self

    def resolved_base_url(self) -> str:
        def expand(match: re.Match[str]) -> str:
            value = os.environ.get(match.group(1))
            if not value:
                raise IntegrationConfigError(
                    f"integration {self.name}: base_url needs environment variable {match.group(1)}"
                )
            return value

        return _PLACEHOLDER.sub(expand, self.base_url).rstrip("/")


def load_integrations(directory: Path) -> dict[str, ApiIntegrationConfig]:
    """Every `*.yaml` of `directory` (missing folder: none)."""
    integrations: dict[str, ApiIntegrationConfig] = {}
    if not directory.is_dir():
        return integrations
    for path in sorted(directory.glob("*.yaml")):
        try:
            config = ApiIntegrationConfig.model_validate(yaml.safe_load(path.read_text("utf-8")))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise IntegrationConfigError(f"{path}: {problems}") from None
        except yaml.YAMLError as error:
            raise IntegrationConfigError(f"{path}: not valid YAML: {error}") from None
        integrations[config.name] = config
    return integrations


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code == 429 or error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


_CONSTRAINTS = {
    "maxLength": "max_length",
    "minLength": "min_length",
    "pattern": "pattern",
    "minimum": "ge",
    "maximum": "le",
}


def _field_type(spec: dict[str, Any]) -> Any:
    if spec.get("enum"):
        return Literal[tuple(spec["enum"])]
    return _JSON_TYPES.get(spec.get("type", "string"), str)


def _arguments_model(operation: Operation) -> type[BaseModel]:
    """The operation's JSON-schema parameters as a strict model (types, enums, bounds)."""
    schema = operation.parameters
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        python_type = _field_type(spec)
        limits = {_CONSTRAINTS[k]: v for k, v in spec.items() if k in _CONSTRAINTS}
        if spec.get("type", "string") == "string" and "max_length" not in limits:
            limits["max_length"] = 1000
        description = spec.get("description")
        if name in required:
            fields[name] = (python_type, Field(description=description, strict=True, **limits))
        else:
            fields[name] = (
                python_type | None,
                Field(default=None, description=description, strict=True, **limits),
            )
    for name in _PATH_PARAM.findall(operation.path):
        if name in STATE_PARAMETERS:
            fields[name] = (Annotated[str | None, InjectedState(name)], None)
    fields["language"] = (Annotated[str, InjectedState("language")], "en")
    model_name = "".join(part.title() for part in operation.name.split("_")) + "Input"
    return create_model(model_name, **fields)


class ApiToolError(RuntimeError):
    pass


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, values: Any) -> str:
    """`template` with `{field}` placeholders filled from `values` (missing ones blank)."""
    data = values if isinstance(values, dict) else {"result": values}
    return template.format_map(_Blank({k: v for k, v in data.items() if v is not None}))


def _rendered(text: str, templates: dict[str, str] | None, language: str) -> str:
    """The API's JSON answer as the agent's sentence for it, when it has a template."""
    template = (templates or {}).get(language) or (templates or {}).get("en")
    if not template:
        return text
    try:
        return fill(template, json.loads(text))
    except ValueError:
        return text


def _proposal(
    operation: Operation,
    args_model: type[BaseModel],
    arguments: Mapping[str, Any],
    context: CallContext,
    record: Mapping[str, Any] | None = None,
) -> Proposal | str:
    """Validate the model's arguments in code; the question to ask before the call runs."""
    if any(
        name in STATE_PARAMETERS and not getattr(context, name, None)
        for name in _PATH_PARAM.findall(operation.path)
    ):
        return f"ERROR: cannot call {operation.name}: no account is linked to this WhatsApp number."
    visible = {k: v for k, v in arguments.items() if k not in INJECTED}
    try:
        checked = args_model.model_validate(visible)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in error.errors()
        )
        return f"ERROR: invalid arguments for {operation.name}: {problems[:300]}"
    values = {k: v for k, v in checked.model_dump().items() if k not in INJECTED and v is not None}
    unknown = set(visible) - set(args_model.model_fields)
    if unknown:
        return f"ERROR: unknown arguments for {operation.name}: {', '.join(sorted(unknown))[:200]}"
    if record is not None and operation.check is not None:
        for parameter, field in operation.check.match.items():
            expected = record.get(field)
            if parameter in values and str(values[parameter]) != str(expected):
                return (
                    f"ERROR: invalid arguments for {operation.name}: {parameter} "
                    f"{str(values[parameter])[:40]!r} is not on the customer's record "
                    f"(the record has {expected!r})."
                )
            values[parameter] = expected
    template = operation.confirm.get(context.language) or operation.confirm.get("en")  # type: ignore[call-overload]
    shown = {**(record or {}), **values}
    summary = fill(template, shown) if template else f"{operation.description} ({values})?"
    return Proposal(operation.name, values, summary)


def build_api_tools(
    config: ApiIntegrationConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    templates: Mapping[str, dict[str, str]] | None = None,
) -> list[BaseTool]:
    """One tool per operation; the HTTP client is shared and created on first use.

    Operations that change something become write tools (validated, confirmed before they run);
    answers become the agent's sentence for the operation when its `templates` has one.
    """
    clients: dict[str, httpx.AsyncClient] = {}

    def client() -> httpx.AsyncClient:
        if "client" not in clients:
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
            clients["client"] = httpx.AsyncClient(
                base_url=config.resolved_base_url(),
                headers=headers,
                timeout=config.timeout_seconds,
                transport=transport,
            )
        return clients["client"]

    operations = {operation.name: operation for operation in config.operations}

    async def request(operation: Operation, arguments: dict[str, Any]) -> httpx.Response | str:
        """The operation's HTTP answer, or an error for the model."""
        path_names = _PATH_PARAM.findall(operation.path)
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
                    response = await client().request(
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

    async def record_for(check: RecordCheck, context: CallContext) -> dict[str, Any] | str:
        state = {name: getattr(context, name, None) for name in STATE_PARAMETERS}
        answer = await request(operations[check.operation], state)
        if isinstance(answer, str):
            return answer
        try:
            data = answer.json()
        except ValueError:
            return f"ERROR: {check.operation} did not answer JSON."
        return data if isinstance(data, dict) else {"result": data}

    def make(operation: Operation) -> BaseTool:
        async def call(**arguments: Any) -> str:
            language = str(arguments.get("language") or "en")
            answer = await request(operation, arguments)
            if isinstance(answer, str):
                return answer
            return _rendered(answer.text, (templates or {}).get(operation.name), language)

        description = operation.description
        if operation.examples:
            description += " Examples: " + "; ".join(operation.examples)
        args_model = _arguments_model(operation)
        built = StructuredTool.from_function(
            coroutine=call, name=operation.name, description=description, args_schema=args_model
        )
        built.metadata = {"integration": config.name, "examples": operation.examples}
        if not operation.changes_something:
            return built

        async def prepare(arguments: Mapping[str, Any], context: CallContext) -> Proposal | str:
            checked = _proposal(operation, args_model, arguments, context)
            if isinstance(checked, str) or operation.check is None:
                return checked
            record = await record_for(operation.check, context)
            if isinstance(record, str):
                return record
            return _proposal(operation, args_model, arguments, context, record)

        return as_write_tool(built, prepare)

    return [make(operation) for operation in config.operations]
