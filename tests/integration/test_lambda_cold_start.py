"""The cold-start benchmark still runs (one run each): its numbers are for `make bench`."""

from __future__ import annotations

import json

import pytest

from benchmarks import lambda_cold_start

pytestmark = pytest.mark.integration


def test_cold_start_benchmark_measures_the_webhook_handler_beside_a_bare_one(tmp_path) -> None:
    targets = lambda_cold_start.TARGETS[:2]
    results = lambda_cold_start.run(tmp_path, runs=1, targets=targets)["results"]
    assert set(results) == set(targets)
    assert all(r["cold_ms"] > 0 for r in results.values())
    written = json.loads((tmp_path / "lambda_cold_start.json").read_text())
    assert written["benchmark"] == "lambda_cold_start"
