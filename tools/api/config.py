"""An API_INTEGRATION config: a business's HTTP API, its auth and its operations, read from YAML.

A config names a base URL (`${ENV}` placeholders expand from the environment), auth from an
environment secret, a timeout, retries, and operations with JSON-schema parameters.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


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
