"""Evals through the real graph on the embedded servers: a smoke run, the report, and the CLI's
compare gate catching a deliberately broken agent config."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agents import AgentContext, default_agents_dir
from evals import RunOptions, render_html, run_evals, write_results
from tests.integration.conftest import WAM, wam_env

pytestmark = pytest.mark.integration


async def test_smoke_run_scores_every_turn_and_writes_the_report(supervisor, stores, tmp_path):
    options = RunOptions(tags=["smoke"], concurrency=3, context=AgentContext())
    results = await run_evals(supervisor, stores, options, default_agents_dir())
    assert results["cases"] >= 10
    for key in (
        "routing_accuracy",
        "tool_precision",
        "tool_recall",
        "kb_hit_rate",
        "answer_correctness",
        "groundedness",
        "refusal_correctness",
    ):
        assert key in results["metrics"], key
    assert results["metrics"]["routing_accuracy"] >= 0.9
    assert set(results["by_agent"]) == {"sales", "device_support", "billing", "general"}
    assert set(results["by_language"]) == {"en", "es"}
    assert len(results["config_hash"]) == 16 and len(results["dataset_hash"]) == 16
    json_path, html_path = write_results(results, tmp_path)
    assert json.loads(json_path.read_text())["run_id"] == results["run_id"]
    page = html_path.read_text()
    assert "<svg" in page and "confusion" in page and "Failed turns" in page
    assert "http" not in page.replace("http-equiv", ""), "the report must be self-contained"
    assert render_html(results) == page


def _broken_agents(tmp_path: Path) -> Path:
    """The demo agents with sales' routing examples replaced by billing's: a bad config edit."""
    folder = tmp_path / "broken-agents"
    shutil.copytree(default_agents_dir(), folder)
    sales = (folder / "sales.yaml").read_text()
    start, end = sales.index("examples:"), sales.index("system_prompt_file:")
    sales = (
        sales[:start] + "examples:\n  en: [Show me my invoice, refund my charge]\n" + sales[end:]
    )
    (folder / "sales.yaml").write_text(sales)
    return folder


def test_compare_gates_a_broken_config(servers, settings, tmp_path) -> None:
    env = wam_env(settings, servers, tmp_path)
    env.pop("BILLING_API_URL", None)
    runs = {}
    for label, folder in (("good", default_agents_dir()), ("broken", _broken_agents(tmp_path))):
        out = tmp_path / label
        done = subprocess.run(
            [
                *WAM,
                "evals",
                "run",
                "--tag",
                "smoke",
                "--agents-dir",
                str(folder),
                "--out",
                str(out),
                "--set",
                "router_threshold=0.35",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "routing_accuracy" in done.stdout
        runs[label] = out
    gate = subprocess.run(
        [
            *WAM,
            "evals",
            "compare",
            str(runs["good"]),
            str(runs["broken"]),
            "--metric",
            "routing_accuracy",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gate.returncode == 1, gate.stdout
    assert "REGRESSION" in gate.stdout and "now failing" in gate.stdout
    same = subprocess.run(
        [*WAM, "evals", "compare", str(runs["good"]), str(runs["good"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert same.returncode == 0


def test_bad_set_option_is_refused_naming_it(tmp_path) -> None:
    done = subprocess.run(
        [*WAM, "evals", "run", "--set", "speed=fast"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--set 'speed=fast'" in done.stderr
