"""Tools that change something: validated, proposed in plain words, run only after a yes.

A write tool is an ordinary LangChain tool (the model sees its schema) that also carries a
`prepare` step in its metadata. `prepare` validates the model's arguments in code, checks
permissions and resolves them against the customer's record, writing nothing. It returns either a
`Proposal` (the exact arguments that will run and a sentence asking the customer) or a plain
`str` for the model to act on (a refusal, or a question such as "which device: ...?"). The agent's
tool executor asks the customer through LangGraph's `interrupt()` and runs the tool itself, with the
proposal's arguments, only on a yes; the tool checks permissions again when it runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool


@dataclass(frozen=True)
class CallContext:
    """Who a tool acts for: taken from the conversation's state, never from the model."""

    customer_id: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Proposal:
    """A change ready to run: the tool, its exact validated arguments, the question to ask."""

    tool: str
    arguments: dict[str, Any]
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def proposal_id(self, call_id: str) -> str:
        """Binds a confirmation to this tool call and exactly these arguments."""
        canonical = json.dumps([self.tool, self.arguments, call_id], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


Prepare = Callable[[Mapping[str, Any], CallContext], Awaitable["Proposal | str"]]


def as_write_tool(tool: BaseTool, prepare: Prepare) -> BaseTool:
    """Mark `tool` as a change that needs the customer's yes, validated by `prepare`."""
    tool.metadata = {**(tool.metadata or {}), "write": True, "prepare": prepare}
    return tool


def is_write_tool(tool: BaseTool) -> bool:
    return bool((tool.metadata or {}).get("write"))


def prepare_of(tool: BaseTool) -> Prepare | None:
    prepare = (tool.metadata or {}).get("prepare")
    return prepare if callable(prepare) else None


__all__ = ["CallContext", "Prepare", "Proposal", "as_write_tool", "is_write_tool", "prepare_of"]
