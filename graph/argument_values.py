"""Values only one agent's tools take: "INV-1102" matches the billing integration's invoice
pattern, so a message naming it is about billing whatever else it says.

The patterns are the `pattern`s of the agents' tool and integration arguments
(`graph.agent_profile.argument_patterns`), searched for as whole tokens, case aside. A pattern
that also matches a plain word or number says nothing about an agent and is left out.
"""

from __future__ import annotations

import re

import structlog

from agents import LoadedAgent
from graph.agent_profile import argument_patterns

log = structlog.get_logger(__name__)

# Tokens any message may hold: a pattern matching one of them is no evidence.
_PLAIN = ("", "a", "hello", "hola", "7", "30", "100", "2026")
_ANCHORS = re.compile(r"^\^|\$$")


def _searchable(pattern: str) -> re.Pattern[str] | None:
    """The pattern as a whole-token search, or None when it is invalid or matches plain tokens."""
    try:
        anchored = re.compile(pattern)
        token = re.compile(rf"(?<![\w-])(?:{_ANCHORS.sub('', pattern)})(?![\w-])", re.IGNORECASE)
    except re.error as error:
        log.debug("router: argument pattern skipped", pattern=pattern, error=str(error))
        return None
    if any(anchored.fullmatch(plain) or token.fullmatch(plain) for plain in _PLAIN):
        return None
    return token


class ArgumentValues:
    """Which agents a message names a tool-argument value of."""

    def __init__(self, agents: dict[str, LoadedAgent]) -> None:
        self._patterns: dict[str, list[re.Pattern[str]]] = {}
        for agent_id, agent in agents.items():
            compiled = [_searchable(p) for p in argument_patterns(agent)]
            found = [p for p in compiled if p is not None]
            if found:
                self._patterns[agent_id] = found

    def agents_named(self, text: str) -> set[str]:
        return {
            agent_id
            for agent_id, patterns in self._patterns.items()
            if any(p.search(text) for p in patterns)
        }
