"""`wam evals compare` of runs that cover different cases: compared on the common turns, said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from evals import compare
from evals.compare import CoverageError


def _run(scores: dict[str, float]) -> dict:
    """A run whose turn `case-<n>` scored `scores[n]` on routing (1.0 passes)."""
    records = [
        {"id": case, "turn": 0, "passed": score >= 1.0, "scores": {"routing_accuracy": score}}
        for case, score in scores.items()
    ]
    mean = sum(scores.values()) / len(scores)
    return {"metrics": {"routing_accuracy": mean}, "records": records}


# A full run that misses two hard cases, and a smoke run of three easy cases it shares.
FULL = _run({"easy-1": 1.0, "easy-2": 1.0, "easy-3": 1.0, "hard-1": 0.0, "hard-2": 0.0})
SMOKE = _run({"easy-1": 1.0, "easy-2": 1.0, "easy-3": 1.0})


def test_different_coverage_is_compared_on_the_intersection_and_said() -> None:
    result = compare(SMOKE, FULL, ["routing_accuracy"], 0.02)
    assert result.regressions == []  # 1.0 vs 0.6 overall, but 1.0 vs 1.0 on the common turns
    assert result.deltas["routing_accuracy"] == (1.0, 1.0)
    assert (result.common, result.only_a, result.only_b) == (3, 0, 2)
    assert "cover different cases" in result.render()
    assert "3 turn(s) both ran" in result.render()


def test_a_real_regression_on_the_common_turns_is_still_caught() -> None:
    worse = _run({"easy-1": 1.0, "easy-2": 0.0, "easy-3": 1.0, "hard-1": 0.0})
    result = compare(SMOKE, worse, ["routing_accuracy"], 0.02)
    assert result.regressions == ["routing_accuracy"]
    assert result.flipped_to_fail == ["easy-2#0"]


def test_runs_with_nothing_in_common_are_refused() -> None:
    with pytest.raises(CoverageError, match="no case in common"):
        compare(SMOKE, _run({"other": 1.0}), ["routing_accuracy"], 0.02)


def test_the_command_warns_and_does_not_fail_on_coverage(tmp_path: Path) -> None:
    for name, run in (("smoke", SMOKE), ("full", FULL)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(run))
    result = CliRunner().invoke(
        cli, ["evals", "compare", str(tmp_path / "smoke"), str(tmp_path / "full")]
    )
    assert result.exit_code == 0, result.output
    assert "WARNING: the runs cover different cases" in result.output
