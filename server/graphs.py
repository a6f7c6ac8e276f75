"""The supervisor graphs of a process: one per agents folder (business accounts may share one),
compiled on first use with the process's checkpointer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from graph import SupervisorGraph, compile_supervisor
from server.accounts import BusinessAccount
from server.channel import DepsFactory


class SupervisorGraphs:
    """Each account's compiled graph, built once (under a lock) and kept for the process."""

    def __init__(self, deps_for: DepsFactory, checkpointer: BaseCheckpointSaver[Any]) -> None:
        self._deps_for = deps_for
        self._checkpointer = checkpointer
        self._graphs: dict[Path | None, SupervisorGraph] = {}
        self._lock = asyncio.Lock()

    async def graph_for(self, account: BusinessAccount) -> SupervisorGraph:
        """The graph of `account`'s agents folder; the first call loads its agents (in a thread)
        and compiles it, concurrent ones wait for that."""
        if account.agents_dir in self._graphs:
            return self._graphs[account.agents_dir]
        async with self._lock:
            if account.agents_dir not in self._graphs:
                deps = await asyncio.to_thread(self._deps_for, account.agents_dir)
                self._graphs[account.agents_dir] = compile_supervisor(deps, self._checkpointer)
            return self._graphs[account.agents_dir]
