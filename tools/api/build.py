"""Tools built from an API_INTEGRATION config: one tool per operation of a business's HTTP API.

Operations that change something become write tools (validated in code, confirmed by the
customer before they run, checked against the customer's record when the operation says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from langchain_core.tools import BaseTool, StructuredTool

from tools.actions import CallContext, Proposal, as_write_tool
from tools.api.arguments import arguments_model, proposal
from tools.api.client import ApiClient
from tools.api.config import ApiIntegrationConfig, Operation
from tools.api.templates import rendered


def build_api_tools(
    config: ApiIntegrationConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    templates: Mapping[str, dict[str, str]] | None = None,
) -> list[BaseTool]:
    """One tool per operation; the HTTP client is shared and created on first use.

    Operations that change something become write tools (validated, confirmed before they run);
    answers become the agent's sentence for the operation when its `templates` has one.
    """
    api = ApiClient(config, transport)
    return [_operation_tool(api, operation, templates) for operation in config.operations]


def _operation_tool(
    api: ApiClient, operation: Operation, templates: Mapping[str, dict[str, str]] | None
) -> BaseTool:
    """The tool that calls `operation`; a write tool when it changes something."""

    async def call(**arguments: Any) -> str:
        language = str(arguments.get("language") or "en")
        answer = await api.request(operation, arguments)
        if isinstance(answer, str):
            return answer
        return rendered(answer.text, (templates or {}).get(operation.name), language)

    description = operation.description
    if operation.examples:
        description += " Examples: " + "; ".join(operation.examples)
    args_model = arguments_model(operation)
    built = StructuredTool.from_function(
        coroutine=call, name=operation.name, description=description, args_schema=args_model
    )
    built.metadata = {"integration": api.config.name, "examples": operation.examples}
    if not operation.changes_something:
        return built

    async def prepare(arguments: Mapping[str, Any], context: CallContext) -> Proposal | str:
        checked = proposal(operation, args_model, arguments, context)
        if isinstance(checked, str) or operation.check is None:
            return checked
        record = await api.record_for(operation.check, context)
        if isinstance(record, str):
            return record
        return proposal(operation, args_model, arguments, context, record)

    return as_write_tool(built, prepare)
