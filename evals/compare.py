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


class CoverageError(ValueError):
    """The two runs have no turn in common: there is nothing to compare."""


@dataclass
class Comparison:
    deltas: dict[str, tuple[float | None, float | None]]
    flipped_to_fail: list[str]
    flipped_to_pass: list[str]
    regressions: list[str]
    common: int = 0
    only_a: int = 0
    only_b: int = 0

    @property
    def coverage_differs(self) -> bool:
        return bool(self.only_a or self.only_b)

    def coverage_note(self) -> str:
        """One line when the runs cover different turns (empty when they cover the same)."""
        if not self.coverage_differs:
            return ""
        return (
            f"WARNING: the runs cover different cases (A only: {self.only_a} turn(s), "
            f"B only: {self.only_b}); every metric below is computed on the {self.common} "
            "turn(s) both ran."
        )

    def render(self) -> str:
        lines = [note] if (note := self.coverage_note()) else []
        lines.append(f"{'metric':<24}{'A':>8}{'B':>8}{'delta':>9}")
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


Key = tuple[str, int]


def _by_turn(run: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(str(r["id"]), int(r["turn"])): r for r in run["records"]}


def _metrics_on(
    run: dict[str, Any], records: dict[Key, dict[str, Any]], keys: list[Key]
) -> dict[str, float | None]:
    """Each metric's mean over `keys` (the run's own figures when its records carry no scores)."""
    if not all("scores" in records[key] for key in keys):
        return dict(run["metrics"])
    means: dict[str, float | None] = {}
    for metric in METRICS:
        values = [records[k]["scores"][metric] for k in keys if metric in records[k]["scores"]]
        if values:
            means[metric] = sum(values) / len(values)
    return means


def compare(a: dict[str, Any], b: dict[str, Any], gate: list[str], threshold: float) -> Comparison:
    """B against A on the turns both ran; a gated metric that drops by more than `threshold` is a
    regression. Turns only one run covers are counted, never scored, so a smoke run against a full
    run is not a regression by coverage alone; runs with no turn in common are refused."""
    records_a, records_b = _by_turn(a), _by_turn(b)
    common = sorted(set(records_a) & set(records_b))
    if not common:
        raise CoverageError(
            f"the two runs have no case in common (A: {len(records_a)} turn(s), "
            f"B: {len(records_b)}); run both on the same datasets and tags"
        )
    metrics_a = _metrics_on(a, records_a, common)
    metrics_b = _metrics_on(b, records_b, common)
    metrics = [m for m in METRICS if m in metrics_a or m in metrics_b]
    deltas = {m: (metrics_a.get(m), metrics_b.get(m)) for m in metrics}
    passed_a = {key: records_a[key]["passed"] for key in common}
    passed_b = {key: records_b[key]["passed"] for key in common}
    to_fail = [f"{i}#{t}" for i, t in common if passed_a[(i, t)] and not passed_b[(i, t)]]
    to_pass = [f"{i}#{t}" for i, t in common if not passed_a[(i, t)] and passed_b[(i, t)]]
    regressions = [
        m
        for m in gate
        if (before := deltas.get(m, (None, None))[0]) is not None
        and (after := deltas[m][1]) is not None
        and before - after > threshold
    ]
    return Comparison(
        deltas,
        to_fail,
        to_pass,
        regressions,
        common=len(common),
        only_a=len(set(records_a) - set(records_b)),
        only_b=len(set(records_b) - set(records_a)),
    )
