"""Smoke test of the lifecycle benchmark: a small run completes and reports every step (its
figures are measured by `make bench`, never asserted here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import lifecycle

pytestmark = pytest.mark.integration


def test_the_lifecycle_benchmark_runs(tmp_path: Path) -> None:
    report = lifecycle.run(tmp_path, messages=120, users=20)
    assert set(report["results"]) == {
        "scan only (baseline)",
        "export (scan + Parquet + upload)",
        "totals in Python (baseline)",
        "analytics (DuckDB, every figure)",
        "delete_user, DynamoDB only (baseline)",
        "erasure, every store",
        "erasure, --no-scan",
    }
    assert (tmp_path / "lifecycle.json").exists()
