"""`wam evals compare`: per-metric deltas between two runs, the cases that flipped, and a gate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.evaluators import METRICS


def load_results(path: Path) -> dict[str, Any]:
    file = path / "results.json" if path.is_dir() else path
    data: dict[str, Any] = json.loads(file.read_text("utf-8"))
    return data


def is_results(path: Path) -> bool:
    return (path / "results.json").is_file() if path.is_dir() else path.suffix == ".json"


@dataclass
class Comparison:
    deltas: dict[str, tuple[float | None, float | None]]
    flipped_to_fail: list[str]
    flipped_to_pass: list[str]
    regressions: list[str]

    def render(self) -> str:
        lines = [f"{'metric':<24}{'A':>8}{'B':>8}{'delta':>9}"]
        for metric, (a, b) in self.deltas.items():
            delta = f"{b - a:+.3f}" if a is not None and b is not None else "-"
            marker = "  REGRESSION" if metric in self.regressions else ""
            lines.append(f"{metric:<24}{_f(a):>8}{_f(b):>8}{delta:>9}{marker}")
        lines.append(
            f"\nnow failing ({len(self.flipped_to_fail)}): "
            + (", ".join(self.flipped_to_fail[:30]) or "none")
        )
        lines.append(
            f"now passing ({len(self.flipped_to_pass)}): "
            + (", ".join(self.flipped_to_pass[:30]) or "none")
        )
        return "\n".join(lines)


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def compare(a: dict[str, Any], b: dict[str, Any], gate: list[str], threshold: float) -> Comparison:
    """B against A; a gated metric that drops by more than `threshold` is a regression."""
    metrics = [m for m in METRICS if m in a["metrics"] or m in b["metrics"]]
    deltas = {m: (a["metrics"].get(m), b["metrics"].get(m)) for m in metrics}
    passed_a = {(r["id"], r["turn"]): r["passed"] for r in a["records"]}
    passed_b = {(r["id"], r["turn"]): r["passed"] for r in b["records"]}
    common = sorted(set(passed_a) & set(passed_b))
    to_fail = [f"{i}#{t}" for i, t in common if passed_a[(i, t)] and not passed_b[(i, t)]]
    to_pass = [f"{i}#{t}" for i, t in common if not passed_a[(i, t)] and passed_b[(i, t)]]
    regressions = [
        m
        for m in gate
        if (before := deltas.get(m, (None, None))[0]) is not None
        and (after := deltas[m][1]) is not None
        and before - after > threshold
    ]
    return Comparison(deltas, to_fail, to_pass, regressions)
