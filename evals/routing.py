"""Router-only scoring: every turn of a dataset through a router, no graph, no model.

Fast enough for a unit test; gives routing accuracy per split, language and agent, for single
messages and for conversation turns (where the active agent carries from turn to turn).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from evals.dataset import Conversation
from graph import RouteDecision


class _Routes(Protocol):
    async def aroute(self, text: str, *, active_agent: str | None = None) -> RouteDecision: ...


@dataclass
class RoutingScore:
    """Right/total counts by group; `accuracy(group)` reads them."""

    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, groups: list[str], ok: bool) -> None:
        for group in groups:
            self.total[group] += 1
            self.right[group] += ok

    def accuracy(self, group: str = "all") -> float:
        return self.right[group] / self.total[group] if self.total[group] else 0.0

    def table(self) -> dict[str, dict[str, float]]:
        return {
            g: {"accuracy": round(self.accuracy(g), 4), "turns": n} for g, n in self.total.items()
        }


async def score_routing(router: _Routes, conversations: list[Conversation]) -> RoutingScore:
    """Groups: all, <lang>, <agent>, single / conversation, and <kind>:<lang>."""
    score = RoutingScore()
    for conversation in conversations:
        kind = "single" if len(conversation.turns) == 1 else "conversation"
        active: str | None = None
        for turn in conversation.turns:
            decision = await router.aroute(turn.input, active_agent=active)
            active = decision.agent_id
            ok = decision.agent_id == turn.agent
            lang = turn.language or conversation.language
            score.add(["all", lang, turn.agent, kind, f"{kind}:{lang}"], ok)
            if not ok:
                score.misses.append((conversation.id, turn.input, turn.agent, decision.agent_id))
    return score


async def _compare() -> list[str]:
    from agents import load_agents
    from evals.dataset import SPLITS, load_dataset
    from graph import CascadeRouter, LexicalRouter, LocalRouter

    agents = load_agents()
    groups = ["single:en", "single:es", "conversation:en", "conversation:es", "single", "all"]
    lines = [f"{'router':<10}{'split':<6}" + "".join(f"{g:>17}" for g in groups)]
    for name, local in (("lexical", LexicalRouter(agents)), ("local", LocalRouter(agents))):
        for split, names in SPLITS.items():
            conversations = [c for n in names for c in load_dataset(n)]
            score = await score_routing(CascadeRouter(local), conversations)
            cells = "".join(f"{score.accuracy(g):>17.3f}" for g in groups)
            lines.append(f"{name:<10}{split:<6}{cells}")
    return lines


if __name__ == "__main__":  # python -m evals.routing: lexical vs local, dev vs test
    import asyncio

    print("\n".join(asyncio.run(_compare())))
