"""Moved: the demo business's device actions live in the `demo` plug-in (`demo.smart_home`).

Kept for existing importers: `fold` is now `tools.text.fold`, and `ServiceActions(...).tools()`
lists the demo plug-in's tools (for their descriptions and examples), imported on use so the core
does not depend on the plug-in.
"""

from __future__ import annotations

import importlib
from typing import Any

from langchain_core.tools import BaseTool

from tools.registry import ToolEnv
from tools.text import fold


class ServiceActions:
    """Deprecated: build tools through `tools.registry.ToolRegistry` and the `demo` plug-in."""

    def __init__(self, customers: Any) -> None:
        self.customers = customers

    def tools(self) -> list[BaseTool]:
        factories = importlib.import_module("demo.tools").FACTORIES
        env = ToolEnv(agent_id="demo", services={"customers": self.customers})
        return [factory(env) for factory in factories.values()]


__all__ = ["ServiceActions", "fold"]
